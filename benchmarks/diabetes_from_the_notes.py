"""From the notes' diabetes network to the tuned `diabetes` recipe, one change at a time, over seeds 0-4.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/diabetes_from_the_notes.py

Reporting only: nothing here chooses anything (the tuned recipe's values were chosen on dev by
benchmarks/choose_diabetes.py). Each step starts from `notes_diabetes` (8 -> 6 -> 4 -> 1 with
sigmoids everywhere, plain SGD at 0.01, batches of 16, 100 epochs, raw features) and adds one
change to the step before; the last step is the `diabetes` recipe itself. Every run is a normal
recipe run (no export) on the same splits; the test split is scored once per run. Writes
benchmarks/results/diabetes_from_the_notes.json, which the README's table is rendered from.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from benchmarks.recipe_runs import accuracies  # noqa: E402
from benchmarks.write_results import save  # noqa: E402

SEEDS = (0, 1, 2, 3, 4)
RESULTS = ROOT / "benchmarks" / "results" / "diabetes_from_the_notes.json"

#: (what the step adds, the recipe it runs, its overrides), each step keeping the ones before.
STEPS: list[tuple[str, str, dict]] = [
    ("the notes, as written", "notes_diabetes", {}),
    (
        "+ standardised features (a Normalization layer)",
        "notes_diabetes",
        {"model.normalize": True},
    ),
    ("+ ReLU hidden layers", "notes_diabetes", {"model.activation": "relu"}),
    (
        "+ Adam at 0.003",
        "notes_diabetes",
        {"train.optimizer": "adam", "train.learning_rate": 0.003},
    ),
    (
        "+ early stopping on dev (up to 200 epochs), then a refit on train + dev",
        "notes_diabetes",
        {"train.epochs": 200, "train.early_stopping_patience": 20, "train.refit": True},
    ),
    ("+ L2 0.001 and dropout 0.2: the `diabetes` recipe", "diabetes", {}),
]


def main() -> None:
    steps, overrides = [], {}
    for what, name, added in STEPS:
        overrides = {**overrides, **added} if name == "notes_diabetes" else dict(added)
        test, dev = accuracies(name, overrides, SEEDS)
        steps.append(
            {
                "step": what,
                "recipe": name,
                "overrides": overrides,
                "test_accuracy": test,
                "dev_accuracy": dev,
                "mean_test_accuracy": round(statistics.mean(test), 4),
                "stdev_test_accuracy": round(statistics.stdev(test), 4),
                "mean_dev_accuracy": round(statistics.mean(dev), 4),
            }
        )
        print(
            f"{what}: test {test} mean {steps[-1]['mean_test_accuracy']:.4f}; dev mean "
            f"{steps[-1]['mean_dev_accuracy']:.4f}",
            flush=True,
        )
    save(
        RESULTS,
        {
            "measured_by": "python benchmarks/diabetes_from_the_notes.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "seeds": list(SEEDS),
            "test_rows": 153,
            "steps": steps,
        },
    )


if __name__ == "__main__":
    main()
