"""Choose the MNIST recipes' training-time augmentation on dev splits, never on a test split.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/choose_augmentation.py [RECIPE ...]

Each candidate (an [augment] setting, and for the main job also a longer schedule, since an
augmented training set takes longer to fit) trains the recipe (its other settings as they are,
seed 0, nothing exported, the test split untouched) and is scored on two dev splits: MNIST's
(6,000 images carved from train) and the dev split of the held-out digits users bring
(`modelzoo.datasets.wild_digits`: its own font families and stroke draws, disjoint from its test
split). Per recipe the winner is the candidate with the best held-out dev accuracy among those
whose MNIST dev accuracy reaches the recipe's MNIST test target (`benchmarks/publish_weights.py`),
so robustness is not bought with MNIST accuracy. Writes
benchmarks/results/augmentation_selection.json; the recipe files carry the winners.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from benchmarks.write_results import save  # noqa: E402
from modelzoo import evaluate, recipe_file, run_folder, training  # noqa: E402
from modelzoo.augment import Augmentation  # noqa: E402
from modelzoo.registry import create_model  # noqa: E402

NONE = Augmentation()
LIGHT = Augmentation(rotation=8, shear=8, scale=0.1, aspect=0.1, shift=0.08, stroke=0.5)
MEDIUM = Augmentation(rotation=12, shear=12, scale=0.15, aspect=0.1, shift=0.1, stroke=0.5)


def augmented(augmentation: Augmentation, **train) -> dict:
    """Recipe overrides: every [augment] field, and optional [train] fields."""
    return {
        **{f"augment.{k}": v for k, v in augmentation.to_dict().items()},
        **{f"train.{k}": v for k, v in train.items()},
    }


#: Per recipe, the candidates tried: a name and its recipe overrides.
CANDIDATES = {
    "mnist": {
        "none": augmented(NONE),
        "light": augmented(LIGHT),
        "medium": augmented(MEDIUM),
        "light, 15 epochs cosine": augmented(
            LIGHT, epochs=15, schedule="cosine", early_stopping_patience=0
        ),
        "medium, 15 epochs cosine": augmented(
            MEDIUM, epochs=15, schedule="cosine", early_stopping_patience=0
        ),
        "light with stroke 1, 15 epochs cosine": augmented(
            Augmentation(**{**LIGHT.to_dict(), "stroke": 1.0}),
            epochs=15,
            schedule="cosine",
            early_stopping_patience=0,
        ),
        "light, 15 epochs cosine, dropout 0.1": {
            **augmented(LIGHT, epochs=15, schedule="cosine", early_stopping_patience=0),
            "model.dropout": 0.1,
        },
        "light, 12 epochs cosine, lr 0.002": augmented(
            LIGHT, epochs=12, schedule="cosine", early_stopping_patience=0, learning_rate=0.002
        ),
        "light, 15 epochs cosine, lr 0.002": augmented(
            LIGHT, epochs=15, schedule="cosine", early_stopping_patience=0, learning_rate=0.002
        ),
        "light, 15 epochs cosine, lr 0.003": augmented(
            LIGHT, epochs=15, schedule="cosine", early_stopping_patience=0, learning_rate=0.003
        ),
    },
    "mnist_mlp": {"none": augmented(NONE), "light": augmented(LIGHT), "medium": augmented(MEDIUM)},
    "mnist_cnn": {"none": augmented(NONE), "light": augmented(LIGHT), "medium": augmented(MEDIUM)},
}
RESULTS = ROOT / "benchmarks" / "results" / "augmentation_selection.json"


def trial(name: str, overrides: dict) -> dict:
    """Train recipe `name` with `overrides` (test split untouched); its dev scores."""
    resolved = recipe_file.load(name, overrides)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        result = training.run(
            resolved, runs_root=folder, export_dir=None, evaluate_test=False, echo=lambda *_: None
        )
        model = create_model(
            resolved.model,
            weights=str(result.run_dir / run_folder.WEIGHTS_FILE),
            **resolved.architecture,
        )
        wild = evaluate.wild_digits(model, "dev")
    return {
        "mnist_dev_accuracy": round(result.metrics["dev"]["accuracy"], 5),
        "wild_digits_dev_accuracy": round(wild["accuracy"], 5),
        "wild_digits_dev_by_kind": {k: round(v, 5) for k, v in wild["by_kind"].items()},
        "epochs_run": result.metrics["epochs_run"],
        "train_seconds": result.metrics["train_seconds_this_process"],
        "seconds": round(time.perf_counter() - start, 1),
    }


def choose(trials: dict[str, dict], floor: float) -> str:
    """The best held-out dev accuracy among candidates whose MNIST dev accuracy reaches `floor`
    (if none does, the best MNIST dev accuracy)."""
    eligible = {c: t for c, t in trials.items() if t["mnist_dev_accuracy"] >= floor}
    if not eligible:
        return max(trials, key=lambda c: trials[c]["mnist_dev_accuracy"])
    return max(eligible, key=lambda c: eligible[c]["wild_digits_dev_accuracy"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "recipes",
        nargs="*",
        default=list(CANDIDATES),
        help=f"recipes to tune (default: {' '.join(CANDIDATES)})",
    )
    args = parser.parse_args()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    record = {
        "measured_by": "python benchmarks/choose_augmentation.py [RECIPE ...]",
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "selection": (
            "per recipe, the best held-out digits dev accuracy among candidates whose MNIST dev accuracy "
            "reaches the recipe's MNIST test target; seed 0; test splits untouched"
        ),
        "augmentations": {
            "none": NONE.to_dict(),
            "light": LIGHT.to_dict(),
            "medium": MEDIUM.to_dict(),
        },
        "recipes": previous.get("recipes", {}),  # recipes not named keep their record
    }
    for name in args.recipes:
        floor = recipe_file.load(name).publish.minimum
        trials = {}
        for candidate, overrides in CANDIDATES[name].items():
            trials[candidate] = {**trial(name, overrides), "overrides": overrides}
            t = trials[candidate]
            print(
                f"{name} / {candidate}: MNIST dev {t['mnist_dev_accuracy']:.2%}, held-out dev "
                f"{t['wild_digits_dev_accuracy']:.2%} {t['wild_digits_dev_by_kind']}, {t['train_seconds']:.0f} s",
                flush=True,
            )
        record["recipes"][name] = {
            "mnist_dev_floor": floor,
            "chosen": choose(trials, floor),
            "trials": trials,
            "date": time.strftime("%Y-%m-%d"),
        }
        print(f"{name}: chosen {record['recipes'][name]['chosen']!r}", flush=True)
    save(RESULTS, record)


if __name__ == "__main__":
    main()
