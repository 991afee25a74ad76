"""Choose the MNIST recipes' training-time augmentation on dev splits, never on a test split.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/choose_augmentation.py [RECIPE ...]

Each candidate [augment] setting trains the recipe (its other settings as they are, seed 0,
nothing exported, the test split untouched) and is scored on two dev splits: MNIST's (54,000 /
6,000 carved from train) and the dev split of the held-out digits users bring
(`modelzoo.datasets.wild_digits`: its own fonts and stroke draws, disjoint from its test split).
Per recipe the winner is the candidate with the best held-out dev accuracy among those whose MNIST
dev accuracy stays within 0.1 points of the best candidate's, so robustness is not bought with
MNIST accuracy. Writes benchmarks/results/augmentation_selection.json; the recipe files carry the
winners.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from benchmarks.write_results import save  # noqa: E402
from modelzoo import evaluate, recipe, training  # noqa: E402
from modelzoo.augment import Augmentation  # noqa: E402
from modelzoo.registry import create_model  # noqa: E402

RECIPES = ("mnist", "mnist_mlp", "mnist_cnn")
CANDIDATES = {
    "none": Augmentation(),
    "light": Augmentation(rotation=8, shear=8, scale=0.1, aspect=0.1, shift=0.08, stroke=0.5),
    "medium": Augmentation(rotation=12, shear=12, scale=0.15, aspect=0.1, shift=0.1, stroke=0.5),
    "medium, no stroke change": Augmentation(rotation=12, shear=12, scale=0.15, aspect=0.1, shift=0.1),
}
MNIST_DEV_SLACK = 0.001
RESULTS = ROOT / "benchmarks" / "results" / "augmentation_selection.json"


def trial(name: str, augmentation: Augmentation) -> dict:
    """Train recipe `name` with `augmentation` (test split untouched); its dev scores."""
    overrides = {f"augment.{key}": value for key, value in augmentation.to_dict().items()}
    resolved = recipe.load(name, overrides)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = training.run(resolved, runs_root=folder, export_dir=None, evaluate_test=False, echo=lambda *_: None)
        model = create_model(resolved.model, weights=str(result.run_dir / training.WEIGHTS_FILE), **resolved.model_args)
        wild = evaluate.wild_digits(model, "dev")
    return {
        "mnist_dev_accuracy": round(result.metrics["dev"]["accuracy"], 5),
        "wild_digits_dev_accuracy": round(wild["accuracy"], 5),
        "wild_digits_dev_by_kind": {k: round(v, 5) for k, v in wild["by_kind"].items()},
        "epochs_run": result.metrics["epochs_run"],
        "train_seconds": result.metrics["train_seconds_this_process"],
        "seconds": round(time.perf_counter() - start, 1),
    }


def choose(trials: dict[str, dict]) -> str:
    """The best held-out dev accuracy among candidates within MNIST_DEV_SLACK of the best MNIST dev accuracy."""
    best_mnist = max(t["mnist_dev_accuracy"] for t in trials.values())
    eligible = {c: t for c, t in trials.items() if t["mnist_dev_accuracy"] >= best_mnist - MNIST_DEV_SLACK}
    return max(eligible, key=lambda c: eligible[c]["wild_digits_dev_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="*", default=list(RECIPES), help=f"recipes to tune (default: {' '.join(RECIPES)})")
    args = parser.parse_args()
    record = {
        "measured_by": "python benchmarks/choose_augmentation.py",
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "selection": (f"per recipe, the best held-out digits dev accuracy among candidates within "
                      f"{MNIST_DEV_SLACK:.1%} of the best MNIST dev accuracy; seed 0; test splits untouched"),
        "candidates": {name: a.to_dict() for name, a in CANDIDATES.items()},
        "recipes": {},
    }
    for name in args.recipes:
        trials = {}
        for candidate, augmentation in CANDIDATES.items():
            trials[candidate] = trial(name, augmentation)
            t = trials[candidate]
            print(f"{name} / {candidate}: MNIST dev {t['mnist_dev_accuracy']:.2%}, held-out dev "
                  f"{t['wild_digits_dev_accuracy']:.2%} {t['wild_digits_dev_by_kind']}, {t['train_seconds']:.0f} s",
                  flush=True)
        record["recipes"][name] = {"chosen": choose(trials), "trials": trials}
        print(f"{name}: chosen {record['recipes'][name]['chosen']!r}", flush=True)
    save(RESULTS, record)


if __name__ == "__main__":
    main()
