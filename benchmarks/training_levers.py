"""The levers tried on the mnist_cnn recipe's training time, one run each, judged on dev splits.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/training_levers.py [--seed 0]

Each row trains `mnist_cnn` in a fresh process through modelzoo's runner (no test split, no
export) with the overrides shown, on top of the recipe as it is now: the recipe's settings
before the performance work, then each lever that was kept, then levers that were measured and
not kept. For each: model.fit's wall time, the median epoch after the first (the first traces
the graph), examples per second of that epoch, and the accuracy on MNIST's dev split and on the
held-out digits' dev split (`modelzoo.datasets.wild_digits`), the two splits the recipe's
settings are chosen on. Writes benchmarks/results/training_levers.json and regenerates
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.epoch_clock import epoch_clock  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "training_levers.json"
#: mnist_cnn's [train] settings before the performance work of issue 20 (commit 1791788).
BEFORE = {
    "train.precision": "float32",
    "train.batch_size": 128,
    "train.learning_rate": 0.003,
    "train.steps_per_execution": 1,
    "train.epochs": 6,
}
#: (label, overrides on top of the recipe now, kept?) in the order they are run.
LEVERS = (
    ("settings before", BEFORE, False),
    ("+ mixed bfloat16", {**BEFORE, "train.precision": "mixed_bfloat16"}, True),
    (
        "+ batches of 256 at rate 0.004, 4 per step call, 5 epochs",
        {"train.learning_rate": 0.004},
        True,
    ),
    ("+ rate 0.006 (the recipe now)", {}, True),
    ("the recipe now, float32", {"train.precision": "float32"}, False),
    (
        "the recipe now, batches of 512 at rate 0.006, 2 per step call",
        {"train.batch_size": 512, "train.learning_rate": 0.006, "train.steps_per_execution": 2},
        False,
    ),
    ("the recipe now + BatchNorm", {"model.batch_norm": True}, False),
    ("the recipe now + warm-up of 0.5 epochs", {"train.warmup_epochs": 0.5}, False),
)


def one_run(overrides: dict, seed: int, mirror: str | None) -> dict:
    """In a fresh process: one run of mnist_cnn with `overrides`, timed, scored on the dev splits."""
    from modelzoo import evaluate, recipe_file, training
    from modelzoo.registry import create_model

    recipe = recipe_file.load("mnist_cnn", {**overrides, "train.seed": seed})

    clock = epoch_clock()
    with tempfile.TemporaryDirectory() as folder:
        result = training.run(
            recipe,
            runs_root=folder,
            export_dir=None,
            mirror=mirror,
            echo=lambda *_: None,
            callbacks=[clock],
            evaluate_test=False,
        )
        weights = result.run_dir / result.metrics["weights_file"]
        model = create_model(recipe.model, weights=str(weights), **recipe.architecture)
        wild = evaluate.wild_digits(model, "dev")["accuracy"]
    epoch = statistics.median(clock.seconds[1:]) if len(clock.seconds) > 1 else clock.seconds[0]
    examples = result.metrics["sizes"]["train"]
    return {
        "fit_seconds": round(sum(clock.seconds), 2),
        "epoch_seconds": [round(s, 2) for s in clock.seconds],
        "median_epoch_seconds": round(epoch, 2),
        "examples_per_s": round(examples / epoch),
        "dev_accuracy": round(float(result.metrics["dev"]["accuracy"]), 5),
        "wild_digits_dev_accuracy": round(float(wild), 5),
        "epochs": recipe.train.epochs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_run(json.loads(args.one), args.seed, args.data_mirror)))
        return
    rows = []
    for label, overrides, kept in LEVERS:
        command = [
            sys.executable,
            __file__,
            "--one",
            json.dumps(overrides),
            "--seed",
            str(args.seed),
        ]
        if args.data_mirror:
            command += ["--data-mirror", args.data_mirror]
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise SystemExit(f"{label} failed:\n{done.stderr[-3000:]}")
        row = {"lever": label, "overrides": overrides, "kept": kept}
        row |= json.loads(done.stdout.strip().splitlines()[-1])
        print(json.dumps(row), flush=True)
        rows.append(row)
    record = {
        "measured_by": "python benchmarks/training_levers.py"
        + (f" --seed {args.seed}" if args.seed else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "seed": args.seed,
        "rows": rows,
    }
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
