"""Training cost: the input pipeline alone, epoch time against the train-split size, achieved GFLOP/s.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/training_cost.py [--repeats 3]

- Pipeline: with no model attached, how fast `modelzoo.data.load` decodes the tfds records into
  memory (examples/s of the train split, before training starts), then examples per second that
  the training pipeline (batch 256, the MNIST recipes') delivers on its first pass (from memory, filling the cache),
  on a later pass (from the cache, as every epoch after the first), and augmented as the MNIST
  recipes augment (their [augment] section; every epoch draws afresh): a first augmented pass,
  which also compiles the augmentation's XLA program, and a second, as every later epoch.
  `--pipeline-only` measures these again and keeps the recorded epochs.
- Growth: for each recipe, the model built and compiled as `modelzoo.training.run` does, trained
  on the first 25%, 50% and 100% of its training split (the same pipeline: cached, reshuffled
  every epoch, not augmented); epochs are timed without validation, and the figure is the median
  of epochs 2 to 4 (the first one traces the graph and fills the cache).
- Augmentation's cost: for a recipe with [augment], the same epoch on the whole split with its
  augmentation on. On a CPU the pipeline's work shares the cores training uses, so the
  difference is what augmenting costs per epoch.
- GFLOP/s: training FLOPs per example (3 x forward, `modelzoo.flops`) x examples per second of
  each epoch; RESULTS.md sets it beside the fp32 peak measured on the same machine (cpu_peak.json) when it
  renders.

Every figure is the median of `--repeats` runs, each in a fresh process. Writes
benchmarks/results/training_cost.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.epoch_clock import epoch_clock  # noqa: E402
from benchmarks.machine import answer_child, describe, run_child  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "training_cost.json"
FRACTIONS = (0.25, 0.5, 1.0)
PIPELINE_BATCH = 256  # mnist's and mnist_cnn's batch size
TIMED_EPOCHS = 3
RECIPES = ["mnist", "mnist_cnn"]


def pipeline_rate(mirror: str | None) -> dict:
    """Examples per second of MNIST's training pipeline alone: decoding into memory, the first
    pass, a cached pass, and two augmented passes (the first compiles the augmentation)."""
    from modelzoo import data, recipe_file

    start = time.perf_counter()
    splits = data.load(
        "mnist",
        batch_size=PIPELINE_BATCH,
        seed=0,
        mirror=mirror,
        augment=recipe_file.load("mnist_cnn").augment,
    )
    decode = splits.info.sizes["train"] / (time.perf_counter() - start)
    rates = []
    # the first augmented pass also compiles the augmentation's XLA program (modelzoo.augment)
    for dataset in (splits.for_evaluation("train"),) * 2 + (splits.train,) * 2:
        start, count = time.perf_counter(), 0
        for x, _ in dataset:
            count += int(x.shape[0])
        rates.append(count / (time.perf_counter() - start))
    return {
        "decode_examples_per_s": decode,
        "first_pass_examples_per_s": rates[0],
        "cached_examples_per_s": rates[1],
        "augmented_first_pass_examples_per_s": rates[2],
        "augmented_examples_per_s": rates[3],
    }


def epoch_seconds(
    name: str,
    fraction: float,
    mirror: str | None,
    augmented: bool = False,
    overrides: dict | None = None,
) -> dict:
    """Median seconds of an epoch (after the first) on `fraction` of the recipe's training split,
    with the recipe's augmentation if `augmented`, and the recipe `overrides` if any."""
    import keras

    from modelzoo import data, hardware, recipe_file, recipe_model

    resolved = recipe_file.load(name, overrides or {})
    settings = resolved.train
    keras.utils.set_random_seed(settings.seed)
    full = data.load(resolved.data, mirror=mirror).info.sizes["train"]
    # the first examples of the split, cached and reshuffled every epoch exactly as a run of that size
    splits = data.load(
        resolved.data,
        batch_size=settings.batch_size,
        seed=settings.seed,
        mirror=mirror,
        one_hot=resolved.one_hot,
        max_examples=max(1, round(fraction * full)),
        augment=resolved.augment if augmented else None,
    )
    examples = splits.info.sizes["train"]
    model = recipe_model.build_model(resolved)
    recipe_model.compile_model(model, resolved, examples)

    clock = epoch_clock()
    model.fit(splits.train, epochs=1 + TIMED_EPOCHS, callbacks=[clock], verbose=0)
    return {
        "examples": examples,
        "seconds": statistics.median(clock.seconds[1:]),
        "precision": recipe_model.training_precision(resolved),
        "kernels": hardware.cpu_kernels(),
    }


def one_run(job: dict) -> dict:
    if job["kind"] == "pipeline":
        return pipeline_rate(job["mirror"])
    return epoch_seconds(
        job["recipe"],
        job["fraction"],
        job["mirror"],
        job.get("augmented", False),
        job.get("overrides"),
    )


def spawn(job: dict) -> dict:
    """`job` in a fresh process, with the CPU kernels modelzoo's commands train with
    (`hardware.prefer_onednn`), or TensorFlow's default ones for this CPU where `job["onednn"]` is
    None ("0" or "1": TF_ENABLE_ONEDNN_OPTS as given)."""
    onednn = job.get("onednn", "modelzoo")
    return run_child(__file__, job, "tensorflow" if onednn is None else onednn)


def median_of(runs: list[dict], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--recipes", nargs="+", default=RECIPES)
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    parser.add_argument(
        "--pipeline-only",
        action="store_true",
        help="measure the input pipeline again and keep the recorded epochs",
    )
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if answer_child(args.one, one_run):
        return

    from modelzoo import flops, recipe_file, recipe_model

    machine = describe()
    recorded = write_results.machine_record(RESULTS.name, machine)
    if args.pipeline_only and recorded is None:
        raise SystemExit(
            f"--pipeline-only: {RESULTS} has no epochs measured on this machine ({machine}) to "
            "keep; run without it"
        )
    peak = write_results.fp32_peak(machine)
    pipeline = [
        spawn({"kind": "pipeline", "mirror": args.data_mirror}) for _ in range(args.repeats)
    ]
    record = {
        "measured_by": "python benchmarks/training_cost.py"
        + (f" --repeats {args.repeats}" if args.repeats != 3 else "")
        + (f" --recipes {' '.join(args.recipes)}" if args.recipes != RECIPES else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": machine,
        "repeats": args.repeats,
        "pipeline": {
            "batch_size": PIPELINE_BATCH,
            **{
                key: round(median_of(pipeline, key))
                for key in (
                    "decode_examples_per_s",
                    "first_pass_examples_per_s",
                    "cached_examples_per_s",
                    "augmented_first_pass_examples_per_s",
                    "augmented_examples_per_s",
                )
            },
        },
        "recipes": {},
    }
    print(f"pipeline: {record['pipeline']}", flush=True)
    if args.pipeline_only:
        # the epochs keep their own command, date, machine and repeats; the pipeline gets its own
        recorded["pipeline"] = {
            **record["pipeline"],
            "measured_by": f"{record['measured_by']} --pipeline-only",
            "date": record["date"],
            "machine": record["machine"],
            "repeats": record["repeats"],
        }
        write_results.save_machine_record(RESULTS, recorded)
        return
    for name in args.recipes:
        recipe = recipe_file.load(name)
        per_example = flops.training_flops(recipe_model.build_model(recipe))
        rows = []
        for fraction in FRACTIONS:
            runs = [
                spawn(
                    {
                        "kind": "epoch",
                        "recipe": name,
                        "fraction": fraction,
                        "mirror": args.data_mirror,
                    }
                )
                for _ in range(args.repeats)
            ]
            seconds = median_of(runs, "seconds")
            print(
                f"  {name} at {fraction:.0%}: runs {[round(r['seconds'], 2) for r in runs]}",
                flush=True,
            )
            rate = runs[0]["examples"] / seconds
            precision = runs[0]["precision"]  # train.precision as the epochs ran ("auto" resolved)
            kernels = runs[0]["kernels"]  # the CPU kernels TensorFlow reported computing with
            rows.append(
                {
                    "fraction": fraction,
                    "examples": runs[0]["examples"],
                    "epoch_seconds": round(seconds, 2),
                    "runs_seconds": [round(r["seconds"], 2) for r in runs],
                    "examples_per_s": round(rate),
                    "gflops": round(per_example * rate / 1e9, 2),
                }
            )
            print(
                f"{name} at {fraction:.0%}: {rows[-1]} "
                f"({write_results.of_peak(rows[-1]['gflops'], peak)} of fp32 peak)",
                flush=True,
            )
        full = rows[-1]
        augmented_seconds = None
        if recipe.augment:
            runs = [
                spawn(
                    {
                        "kind": "epoch",
                        "recipe": name,
                        "fraction": 1.0,
                        "mirror": args.data_mirror,
                        "augmented": True,
                    }
                )
                for _ in range(args.repeats)
            ]
            augmented_seconds = round(median_of(runs, "seconds"), 2)
            print(f"{name} augmented: runs {[round(r['seconds'], 2) for r in runs]}", flush=True)
        record["recipes"][name] = {
            "training_flops_per_example": per_example,
            "precision": precision,
            "kernels": kernels,
            "augmented": bool(recipe.augment),
            "epochs": rows,
            "augmented_epoch_seconds": augmented_seconds,
            "linearity": round(
                full["epoch_seconds"]
                / rows[0]["epoch_seconds"]
                / (full["examples"] / rows[0]["examples"]),
                3,
            ),
        }
    if args.recipes != RECIPES:  # a run of some recipes keeps the others; a full run replaces all
        record = keep_other_recipes(recorded, record)
    write_results.save_machine_record(RESULTS, record)


def keep_other_recipes(recorded: dict | None, record: dict) -> dict:
    """`record`, plus the recipes this machine's earlier record (`recorded`) has and `record` did
    not measure again, each stamped with the command, date and repeats that measured it."""
    if not recorded:
        return record
    stamp = {key: recorded[key] for key in ("measured_by", "date", "repeats")}
    # in the recorded order, each measured again replaced; a stamp a kept one already has wins
    recipes = {
        name: record["recipes"].get(name, {**stamp, **result})
        for name, result in recorded["recipes"].items()
    }
    return {**record, "recipes": {**recipes, **record["recipes"]}}


if __name__ == "__main__":
    main()
