"""Export every shipped model in every format and record what each format's check measured.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/export_formats.py

For each shipped weights entry, `modelzoo export MODEL --weights TAG --format ...` runs in a
fresh process, as a user types it, into a temporary folder: savedmodel, onnx and litert for
every model, and litert-int8 for the classifiers (calibrated on 500 training examples, judged on
the whole test split of the data set the weights were trained on). The card's "formats" record
of each export (file sizes, the largest difference from Keras in ONNX Runtime and LiteRT, the
int8 and float test accuracy) goes to benchmarks/results/export_formats.json, from which
`benchmarks/update_readme.py` renders the README's table. A format that fails its check is
recorded with the run's one-line reason.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe  # noqa: E402
from modelzoo import storage  # noqa: E402
from modelzoo import weights as shipped  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "export_formats.json"
FLOAT_FORMATS = "savedmodel,onnx,litert"


def export(entry: shipped.Weights, formats: str, folder: Path) -> tuple[dict | None, str, float]:
    """(the export's card formats record or None, the command's last line, seconds)."""
    command = [
        sys.executable, "-m", "modelzoo", "export", entry.model, "--weights", entry.tag,
        "--format", formats, "--export-dir", str(folder), "--name", "m",
    ]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or [""]
    if done.returncode != 0:
        return None, last[0], seconds
    version = storage.saved_model_folder(folder / "m")
    return storage.read_card(version)["formats"], last[0], seconds


def main() -> None:
    rows = []
    for entry in shipped.STORE.entries():
        classifier = bool(entry.classes)
        formats = FLOAT_FORMATS + (",litert-int8" if classifier else "")
        with tempfile.TemporaryDirectory() as folder:
            record, line, seconds = export(entry, formats, Path(folder))
        if record is None and classifier:  # int8 refused: record why, and the float formats
            with tempfile.TemporaryDirectory() as folder:
                record, _, seconds = export(entry, FLOAT_FORMATS, Path(folder))
            if record is not None:
                record["litert-int8"] = {"refused": line}
        row = {
            "model": entry.model,
            "weights": entry.tag,
            "test": entry.metrics.get("test", {}),
            "formats": record or {},
            "seconds": round(seconds, 1),
        }
        if record is None:
            row["failed"] = line
        rows.append(row)
        print(f"{entry.model}:{entry.tag}: {sorted(record or {})} in {seconds:.1f} s {line}")
    write_results.save(
        RESULTS,
        {
            "measured_by": "python benchmarks/export_formats.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "exports": rows,
        },
    )


if __name__ == "__main__":
    main()
