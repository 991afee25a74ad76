"""Choose the diabetes recipe's learning rate, L2, dropout and batch size on the dev split, never the test split.

    python benchmarks/choose_diabetes.py

Each configuration trains with seeds 0 to 4 (early stopping on dev loss, patience 20); the
configuration with the highest mean dev accuracy wins. The dev split has only 154 rows, so one
seed alone picks noise. Writes benchmarks/results/diabetes_selection.json; the recipe file
recipes/diabetes.toml carries the winner.
"""

from __future__ import annotations

import itertools
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from modelzoo import recipe_file, training  # noqa: E402

GRID = {
    "train.learning_rate": [0.01, 0.003],
    "model.l2": [0.0, 0.001],
    "model.dropout": [0.0, 0.2],
    "train.batch_size": [16, 32],
}
SEEDS = (0, 1, 2, 3, 4)
RESULTS = ROOT / "benchmarks" / "results" / "diabetes_selection.json"


def main() -> None:
    trials = []
    for values in itertools.product(*GRID.values()):
        config = dict(zip(GRID, values))
        dev = []
        for seed in SEEDS:
            resolved = recipe_file.load("diabetes", {**config, "train.seed": seed})
            with tempfile.TemporaryDirectory() as folder:
                metrics = training.run(
                    resolved, runs_root=folder, export_dir=None, echo=lambda *_: None
                ).metrics
            dev.append(round(metrics["dev"]["accuracy"], 4))
        trials.append(
            {
                "config": config,
                "dev_accuracy": dev,
                "mean_dev_accuracy": round(statistics.mean(dev), 4),
            }
        )
        print(
            f"{config}: mean dev accuracy {trials[-1]['mean_dev_accuracy']:.4f} {dev}", flush=True
        )
    best = max(trials, key=lambda t: t["mean_dev_accuracy"])
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "measured_by": "python benchmarks/choose_diabetes.py",
                "date": time.strftime("%Y-%m-%d"),
                "machine": describe(),
                "selection": "highest mean dev accuracy over seeds " + ", ".join(map(str, SEEDS)),
                "chosen": best["config"],
                "trials": trials,
            },
            indent=2,
        )
        + "\n"
    )
    print(
        f"chosen: {best['config']} (mean dev accuracy {best['mean_dev_accuracy']:.4f}); wrote {RESULTS}"
    )


if __name__ == "__main__":
    main()
