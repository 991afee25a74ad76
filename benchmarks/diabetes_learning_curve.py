"""Does the diabetes recipe gain from more training rows? A learning curve on the dev split only.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/diabetes_learning_curve.py

The recipe trains on the first 50%, 75% and 100% of its 461 training rows (seeds 0 to 4 each)
and is scored on the 154 dev rows; the test split is not touched. If dev accuracy still rises
from 75% to 100% of the rows, a final fit on train + dev (`train.refit`, 615 rows) is expected
to help, and that is the evidence for turning refit on in recipes/diabetes.toml.
Writes benchmarks/results/diabetes_learning_curve.json.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from benchmarks.recipe_runs import metrics_of  # noqa: E402
from benchmarks.write_results import save  # noqa: E402
from modelzoo import recipe_file  # noqa: E402

FRACTIONS = (0.5, 0.75, 1.0)
SEEDS = (0, 1, 2, 3, 4)
TRAIN_ROWS, DEV_ROWS = 461, 154
RESULTS = ROOT / "benchmarks" / "results" / "diabetes_learning_curve.json"


def main() -> None:
    base = recipe_file.load("diabetes")
    points = []
    for fraction in FRACTIONS:
        rows = round(fraction * TRAIN_ROWS)
        dev, dev_loss = [], []
        for seed in SEEDS:
            # max_examples cuts every split to its first N rows; N stays above the dev and test
            # sizes (154, 153), so only the training split shrinks.
            overrides = {"train.seed": seed, "data.max_examples": rows}
            metrics = metrics_of("diabetes", overrides, evaluate_test=False)
            assert metrics["sizes"]["train"] == rows and metrics["sizes"]["dev"] == DEV_ROWS
            dev.append(round(metrics["dev"]["accuracy"], 4))
            dev_loss.append(round(metrics["dev"]["loss"], 4))
        points.append(
            {
                "fraction": fraction,
                "train_rows": rows,
                "dev_accuracy": dev,
                "dev_loss": dev_loss,
                "mean_dev_accuracy": round(statistics.mean(dev), 4),
                "mean_dev_loss": round(statistics.mean(dev_loss), 4),
            }
        )
        print(
            f"{rows} training rows: mean dev accuracy {points[-1]['mean_dev_accuracy']:.4f} {dev}, "
            f"mean dev loss {points[-1]['mean_dev_loss']:.4f}",
            flush=True,
        )
    save(
        RESULTS,
        {
            "measured_by": "python benchmarks/diabetes_learning_curve.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "recipe": {k: v for k, v in base.to_dict().items() if k != "source"},
            "seeds": list(SEEDS),
            "points": points,
        },
    )


if __name__ == "__main__":
    main()
