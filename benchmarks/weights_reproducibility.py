"""Does rerunning a recipe reproduce its shipped weights byte for byte?

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/weights_reproducibility.py [NAME ...]

Runs each built-in recipe again at its defaults, as `benchmarks/publish_weights.py` does (a
fresh process, `python -m modelzoo.recipes NAME --fresh`, TensorFlow op determinism on), and
compares the sha256 of the weights it trains with the one `modelzoo/weights/manifest.json`
records. Same machine, package versions and CPU kernels (oneDNN or Eigen, which the manifest
records as `cpu_kernels` since the commands ask for oneDNN's) are expected to give the same bytes;
the record says which ones were compared. Writes benchmarks/results/weights_reproducibility.json.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from benchmarks.write_results import save  # noqa: E402
from modelzoo import provenance, run_folder  # noqa: E402
from modelzoo import weights as shipped  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "weights_reproducibility.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recipes to rerun (default: every shipped one)")
    args = parser.parse_args()
    entries = {w.recipe: w for w in shipped.STORE.entries()}
    names = args.names or sorted(entries)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            entry = entries[name]
            run_dir = Path(workdir) / name
            command = [
                sys.executable,
                "-m",
                "modelzoo.recipes",
                name,
                "--fresh",
                "--no-export",
                "--run-dir",
                str(run_dir),
            ]
            subprocess.run(command, check=True, capture_output=True)
            digest = hashlib.sha256((run_dir / run_folder.WEIGHTS_FILE).read_bytes()).hexdigest()
            rows.append(
                {
                    "recipe": name,
                    "weights": entry.key,
                    "shipped_sha256": entry.sha256,
                    "rerun_sha256": digest,
                    "identical": digest == entry.sha256,
                    "shipped_on": entry.trained["date"],
                    "shipped_machine": entry.trained["machine"],
                    "shipped_versions": entry.trained["versions"],
                }
            )
            print(
                f"{name}: {'identical' if digest == entry.sha256 else 'DIFFERENT'} ({digest[:16]}...)",
                flush=True,
            )
    save(
        RESULTS,
        {
            "measured_by": "python benchmarks/weights_reproducibility.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "versions": provenance.package_versions(),
            "recipes": rows,
        },
    )


if __name__ == "__main__":
    main()
