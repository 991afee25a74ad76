"""The levers tried on the mnist_cnn recipe's training time, one run each, judged on dev splits.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/training_levers.py [--seed 0]

Each row trains `mnist_cnn` in a fresh process (benchmarks/dev_runs.py) with the overrides
shown, on top of the recipe as it is now: the recipe's settings before the performance work, then
each lever that was kept, then levers that were measured and not kept. For each: model.fit's wall
time, the median epoch after the first (the first traces the graph), examples per second of that
epoch, and the accuracy on MNIST's dev split and on the held-out digits' dev split
(`modelzoo.datasets.wild_digits`), the two splits the recipe's
settings are chosen on. Writes benchmarks/results/training_levers.json and regenerates
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import dev_runs, write_results  # noqa: E402
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    args = parser.parse_args()
    rows = []
    for label, overrides, kept in LEVERS:
        row = {"lever": label, "overrides": overrides, "kept": kept}
        row |= dev_runs.spawn("mnist_cnn", overrides, args.seed, args.data_mirror)
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
