"""Does a moving average of the weights pay on mnist_cnn? Judged on dev splits over 3 seeds.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/weight_averaging.py [--seeds 0,1,2]

Each candidate (the recipe with `train.ema_momentum` off or on, and with fewer epochs) trains
`mnist_cnn` in a fresh process per seed through modelzoo's runner (no test split, no export). For
each run: the MNIST dev accuracy after every epoch (what "time to 99%" hinges on: the validation
scores the average where there is one), the final MNIST dev accuracy and the held-out digits' dev
accuracy (`modelzoo.datasets.wild_digits`), and model.fit's wall time. Writes
benchmarks/results/weight_averaging.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
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

RESULTS = ROOT / "benchmarks" / "results" / "weight_averaging.json"
#: (label, overrides of the mnist_cnn recipe) in the order they run.
CANDIDATES = (
    ("no average, 5 epochs", {"train.ema_momentum": 0.0, "train.epochs": 5}),
    ("average (momentum 0.99), 5 epochs", {"train.ema_momentum": 0.99, "train.epochs": 5}),
    ("average (momentum 0.99), 4 epochs", {"train.ema_momentum": 0.99, "train.epochs": 4}),
)


def one_run(overrides: dict, seed: int, mirror: str | None) -> dict:
    """In a fresh process: one run of mnist_cnn with `overrides`, scored on the dev splits."""
    from modelzoo import evaluate, recipe_file, recipe_model, run_folder, training
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
        with open(result.run_dir / run_folder.HISTORY_FILE) as rows:
            per_epoch = [float(row["val_accuracy"]) for row in csv.DictReader(rows)]
        weights = result.run_dir / result.metrics["weights_file"]
        model = create_model(recipe.model, weights=str(weights), **recipe.architecture)
        wild = evaluate.wild_digits(model, "dev")["accuracy"]
    return {
        "seed": seed,
        "precision": recipe_model.training_precision(recipe),
        "fit_seconds": round(sum(clock.seconds), 2),
        "dev_accuracy_by_epoch": [round(value, 5) for value in per_epoch],
        "dev_accuracy": round(float(result.metrics["dev"]["accuracy"]), 5),
        "wild_digits_dev_accuracy": round(float(wild), 5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    if args.one:
        print(json.dumps(one_run(json.loads(args.one), seeds[0], args.data_mirror)))
        return
    candidates = []
    for label, overrides in CANDIDATES:
        runs = []
        for seed in seeds:
            command = [sys.executable, __file__, "--one", json.dumps(overrides)]
            command += ["--seeds", str(seed)]
            if args.data_mirror:
                command += ["--data-mirror", args.data_mirror]
            env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
            done = subprocess.run(command, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise SystemExit(f"{label}, seed {seed} failed:\n{done.stderr[-3000:]}")
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps({"candidate": label, **runs[-1]}), flush=True)
        candidates.append({"label": label, "overrides": overrides, "runs": runs})
    record = {
        "measured_by": "python benchmarks/weight_averaging.py"
        + (f" --seeds {args.seeds}" if args.seeds != "0,1,2" else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "seeds": seeds,
        # How the average was kept (benchmarks/write_results.py says so for older records).
        "average": "debiased",
        "candidates": candidates,
    }
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
