"""The README's evaluation pictures: mnist_cnn's shipped weights evaluated on MNIST's test split.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/evaluation_figures.py

runs `modelzoo evaluate small_cnn:mnist --data mnist --out docs/evaluation/mnist_cnn` (the weights
the mnist_cnn recipe trained), keeps its report and PNGs there, and writes the headline numbers to
benchmarks/results/evaluation.json for the README's generated section
(`python benchmarks/update_readme.py`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "evaluation" / "mnist_cnn"
RESULT = ROOT / "benchmarks" / "results" / "evaluation.json"
TARGET, DATA = "small_cnn:mnist", "mnist"
COMMAND = ["modelzoo", "evaluate", TARGET, "--data", DATA, "--out", "docs/evaluation/mnist_cnn"]


def main() -> None:
    subprocess.run([sys.executable, "-m", "modelzoo", *COMMAND[1:]], cwd=ROOT, check=True)
    report = json.loads((OUT / "report.json").read_text())
    scores = report["classification"]
    result = {
        "command": " ".join(COMMAND),
        "target": TARGET,
        "data": DATA,
        "split": report["split"],
        "examples": scores["examples"],
        "accuracy": scores["accuracy"],
        "recorded_accuracy": report.get("recorded", {}).get("accuracy"),
        "expected_calibration_error": scores["calibration"]["expected_calibration_error"],
        "mistakes": scores["examples"] - int(round(scores["accuracy"] * scores["examples"])),
        "pictures": {
            name: str((OUT / file).relative_to(ROOT)) for name, file in report["pictures"].items()
        },
    }
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
