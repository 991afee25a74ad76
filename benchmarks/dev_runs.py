"""One run of a recipe scored on the dev splits, in a fresh process: what the studies that choose
mnist_cnn's settings (training_levers.py, weight_averaging.py, conv_width.py) each measure.

    python benchmarks/dev_runs.py --one '{"recipe": "mnist_cnn", "overrides": {...}, "seed": 0}'

A run goes through modelzoo's runner (no test split, no export) with the CPU kernels modelzoo's
commands ask for (`modelzoo.hardware.prefer_onednn`), and reports model.fit's wall time, each
epoch's, the MNIST dev accuracy after every epoch and at the end, and the held-out digits' dev
accuracy (`modelzoo.datasets.wild_digits`): the two splits the recipe's settings are chosen on.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.epoch_clock import epoch_clock  # noqa: E402
from benchmarks.machine import run_child  # noqa: E402


def one_run(recipe_name: str, overrides: dict, seed: int, mirror: str | None) -> dict:
    """In this process: one run of `recipe_name` with `overrides` and `seed`, timed and scored on
    the dev splits."""
    from modelzoo import evaluate, hardware, recipe_file, recipe_model, run_folder, training
    from modelzoo.registry import create_model

    recipe = recipe_file.load(recipe_name, {**overrides, "train.seed": seed})
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
    # the first epoch also traces the graph and fills the data cache
    epoch = statistics.median(clock.seconds[1:]) if len(clock.seconds) > 1 else clock.seconds[0]
    return {
        "seed": seed,
        "precision": recipe_model.training_precision(recipe),
        "kernels": hardware.cpu_kernels(),
        "epochs": len(clock.seconds),
        "fit_seconds": round(sum(clock.seconds), 2),
        "epoch_seconds": [round(s, 2) for s in clock.seconds],
        "median_epoch_seconds": round(epoch, 2),
        "examples_per_s": round(result.metrics["sizes"]["train"] / epoch),
        "dev_accuracy_by_epoch": [round(value, 5) for value in per_epoch],
        "dev_accuracy": round(float(result.metrics["dev"]["accuracy"]), 5),
        "wild_digits_dev_accuracy": round(float(wild), 5),
    }


def spawn(recipe_name: str, overrides: dict, seed: int, mirror: str | None) -> dict:
    """`one_run` in a fresh process, with the kernels modelzoo's commands ask for."""
    job = {"recipe": recipe_name, "overrides": overrides, "seed": seed, "mirror": mirror}
    return run_child(__file__, job)


def candidates_on_dev(
    recipe_name: str, candidates: tuple[tuple[str, dict], ...], seeds: list[int], mirror: str | None
) -> list[dict]:
    """Each (label, overrides) candidate over `seeds`, one fresh process per run, in order."""
    measured = []
    for label, overrides in candidates:
        runs = []
        for seed in seeds:
            runs.append(spawn(recipe_name, overrides, seed, mirror))
            print(json.dumps({"candidate": label, **runs[-1]}), flush=True)
        measured.append({"label": label, "overrides": overrides, "runs": runs})
    return measured


def study(
    doc: str,
    script: str,
    results: Path,
    candidates: tuple[tuple[str, dict], ...],
    about: dict | None = None,
) -> None:
    """A study script's main: `candidates` of mnist_cnn over `--seeds` on the dev splits, recorded
    in `results` (with `about`, what the record needs to say of how it was measured) and
    RESULTS.md regenerated."""
    from benchmarks import write_results
    from benchmarks.machine import describe

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    args = parser.parse_args()
    seeds = [int(seed) for seed in args.seeds.split(",")]
    measured = candidates_on_dev("mnist_cnn", candidates, seeds, args.data_mirror)
    record = {
        "measured_by": f"python benchmarks/{script}"
        + (f" --seeds {args.seeds}" if args.seeds != "0,1,2" else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "seeds": seeds,
        **(about or {}),
        "candidates": measured,
    }
    write_results.save(results, record)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", required=True, help="the run, as JSON")
    job = json.loads(parser.parse_args().one)
    print(json.dumps(one_run(job["recipe"], job["overrides"], job["seed"], job["mirror"])))


if __name__ == "__main__":
    main()
