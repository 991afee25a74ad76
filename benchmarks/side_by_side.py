"""Side by side, in alternating fresh processes: the zoo's MNIST recipes against what they replace.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/side_by_side.py [--repeats 3]
        [--only training,end_to_end,main_job] [--set key=value ...]

Three comparisons, each over `--repeats` alternating pairs (a, b, a, b, ...); pair i runs both
sides with seed i - 1, so the accuracies are over that many seeds:

- training: (a) the keras-io `mnist_convnet` example as published
  (benchmarks/reference/keras_io_mnist_convnet.py) against (b) the `mnist_cnn` recipe through
  modelzoo's runner. Training wall time (the epochs with their validation), the final test
  accuracy, and the training time until test accuracy first reached 99.0% (the test split is
  evaluated after every epoch, off the clock).
- end_to_end: the same two as a user runs them, whole processes timed from start to exit: the
  keras-io script (import, data, training, test) against `python -m modelzoo.recipes mnist_cnn`
  (import, data, training, test, report, SavedModel export and its verification in a fresh
  process).
- main_job: the `mnist` recipe at its defaults (b) against (a) the same recipe with the settings
  it had before benchmarks/side_by_side.py's MAIN_JOB_BEFORE, timed like "training".

Figures are medians over the pairs; ratios b / a are taken within each pair, then the median.
`--set` overrides the `mnist_cnn` recipe (b of training and end_to_end) to try a lever. The
ratios depend on the CPU (mixed bfloat16 pays only where it is native: benchmarks/mixed_precision.py),
so benchmarks/results/side_by_side.json keeps one set of comparisons per machine: a run replaces
this machine's (with `--only`, just those comparisons) and keeps the others'. Then it regenerates
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
from benchmarks.machine import child_env, describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "side_by_side.json"
REFERENCE_SCRIPT = ROOT / "benchmarks" / "reference" / "keras_io_mnist_convnet.py"
COMPARISONS = ("training", "end_to_end", "main_job")
#: The `mnist` recipe's [train] settings before the performance work of issue 20 (commit 1791788).
MAIN_JOB_BEFORE = {
    "train.batch_size": 128,
    "train.epochs": 15,
    "train.learning_rate": 0.003,
    "train.precision": "float32",
    "train.steps_per_execution": 1,
}
TARGETS = {
    "training": {"accuracy": 0.993, "time_ratio": 0.25, "threshold": 0.99, "threshold_ratio": 0.15},
    "end_to_end": {"time_ratio": 0.4},
    "main_job": {"accuracy": 0.98, "time_ratio": 0.5},
}


def test_clock(x_test, y_test):
    """A Keras callback timing each epoch and evaluating on the test split off the clock."""
    import keras

    from modelzoo.weight_averaging import averaged_weights

    class TestClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.training_seconds, self.epochs = 0.0, []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # runs after the epoch's own validation
            self.training_seconds += time.perf_counter() - self._start
            # The weights the model would end with now: the moving average where it keeps one.
            with averaged_weights(self.model):
                accuracy = self.model.evaluate(
                    x_test, y_test, batch_size=1000, verbose=0, return_dict=True
                )["accuracy"]
            self.epochs.append(
                {
                    "epoch": epoch + 1,
                    "training_seconds": round(self.training_seconds, 2),
                    "test_accuracy": round(float(accuracy), 5),
                }
            )

    return TestClock()


def summary(clock, threshold: float) -> dict:
    reached = next(
        (e["training_seconds"] for e in clock.epochs if e["test_accuracy"] >= threshold), None
    )
    return {
        "training_seconds": round(clock.training_seconds, 2),
        "test_accuracy": clock.epochs[-1]["test_accuracy"],
        "seconds_to_threshold": reached,
        "epochs": clock.epochs,
    }


def run_reference(mirror: str | None, epochs: int) -> dict:
    """keras-io's convnet, fitted as published, with the test clock."""
    sys.path.insert(0, str(REFERENCE_SCRIPT.parent))
    import keras_io_mnist_convnet as reference

    arrays = reference.mnist_arrays(mirror)
    clock = test_clock(*arrays["test"])
    reference.train(arrays, epochs=epochs, callbacks=[clock])
    return summary(clock, TARGETS["training"]["threshold"])


def run_recipe(name: str, mirror: str | None, overrides: dict, threshold: float) -> dict:
    """A recipe through modelzoo's own runner (no export), with the test clock."""
    import numpy as np

    from modelzoo import data, recipe_file, recipe_model, training

    resolved = recipe_file.load(name, overrides)
    x_test, y_test = data.take_arrays(data.load(resolved.data, mirror=mirror).test, 10_000)
    clock = test_clock(x_test, np.asarray(y_test))
    with tempfile.TemporaryDirectory() as folder:
        training.run(
            resolved,
            runs_root=folder,
            export_dir=None,
            mirror=mirror,
            echo=lambda *_: None,
            callbacks=[clock],
        )
    return summary(clock, threshold) | {"precision": recipe_model.training_precision(resolved)}


def in_process(job: dict) -> None:
    """In a fresh process: one side of a "training" or "main_job" pair; JSON on the last line."""
    import keras

    keras.utils.set_random_seed(job["seed"])
    if job["side"] == "reference":
        result = run_reference(job["mirror"], job["reference_epochs"])
    else:
        overrides = {**job["overrides"], "train.seed": job["seed"]}
        result = run_recipe(job["recipe"], job["mirror"], overrides, job["threshold"])
    from modelzoo import hardware

    print(json.dumps(result | {"kernels": hardware.cpu_kernels()}))


def spawn(job: dict) -> dict:
    """`job` in a fresh process: with the CPU kernels modelzoo's commands ask for where
    `job["kernels"]` is "modelzoo", else with TensorFlow's default ones for this CPU (as a script
    that imports TensorFlow itself gets them; a TF_ENABLE_ONEDNN_OPTS the user set holds for both)."""
    command = [sys.executable, __file__, "--job", json.dumps(job)]
    env = child_env("modelzoo" if job.get("kernels") == "modelzoo" else "inherited")
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{job['side']} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def whole_process(side: str, seed: int, args, overrides: dict) -> dict:
    """One whole process as a user runs it, timed from start to exit, and its test accuracy."""
    with tempfile.TemporaryDirectory() as folder:
        if side == "a":
            command = [sys.executable, str(REFERENCE_SCRIPT), "--seed", str(seed)]
            command += ["--epochs", str(args.reference_epochs)]
        else:
            command = [sys.executable, "-m", "modelzoo.recipes", "mnist_cnn", "--seed", str(seed)]
            command += ["--run-dir", f"{folder}/run", "--export-dir", f"{folder}/saved_models"]
            for key, value in overrides.items():
                command += ["--set", f"{key}={json.dumps(value)}"]
        if args.data_mirror:
            command += ["--data-mirror", args.data_mirror]
        start = time.perf_counter()
        result = subprocess.run(
            command, capture_output=True, text=True, env=child_env("inherited"), cwd=folder
        )
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
        precision = {}
        if side == "a":
            reported = json.loads(result.stdout.strip().splitlines()[-1])
            accuracy = reported["test_accuracy"]
            precision = {"kernels": reported["kernels"]} if "kernels" in reported else {}
        else:
            metrics = json.loads(Path(folder, "run", "metrics.json").read_text())
            accuracy = metrics["test"]["accuracy"]
            recorded = {"precision": metrics["precision"], "kernels": metrics.get("cpu_kernels")}
            precision = {key: value for key, value in recorded.items() if value is not None}
    return {"seconds": round(seconds, 2), "test_accuracy": round(float(accuracy), 5)} | precision


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def ratio(b, a):
    return round(b / a, 4) if a and b is not None else None


def compare(name: str, args, overrides: dict) -> dict:
    """One comparison over args.repeats alternating pairs, pair i with seed i - 1."""
    target = TARGETS[name]
    pairs = []
    for seed in range(args.repeats):
        if name == "end_to_end":
            a = whole_process("a", seed, args, overrides)
            b = whole_process("b", seed, args, overrides)
            pair = {"seed": seed, "a": a, "b": b, "time_ratio": ratio(b["seconds"], a["seconds"])}
        else:
            common = {"seed": seed, "mirror": args.data_mirror, "side": "recipe"}
            if name == "training":
                job_a = {**common, "side": "reference", "reference_epochs": args.reference_epochs}
                job_b = {**common, "recipe": "mnist_cnn", "overrides": overrides}
                job_b |= {"threshold": target["threshold"], "kernels": "modelzoo"}
            else:
                # both with modelzoo's kernels: the comparison is of the recipe's settings
                job_a = {
                    **common,
                    "recipe": "mnist",
                    "overrides": MAIN_JOB_BEFORE,
                    "threshold": 1.0,
                    "kernels": "modelzoo",
                }
                job_b = {**job_a, "overrides": {}}
            a, b = spawn(job_a), spawn(job_b)
            pair = {
                "seed": seed,
                "a": a,
                "b": b,
                "time_ratio": ratio(b["training_seconds"], a["training_seconds"]),
            }
            if name == "training":
                pair["threshold_ratio"] = ratio(
                    b["seconds_to_threshold"], a["seconds_to_threshold"]
                )
        print(f"[{name} {seed}] {json.dumps({k: v for k, v in pair.items()})[:400]}", flush=True)
        pairs.append(pair)

    def figures(side):
        runs = [pair[side] for pair in pairs]
        keys = (
            ("seconds", "test_accuracy")
            if name == "end_to_end"
            else ("training_seconds", "test_accuracy", "seconds_to_threshold")
        )
        return {key: median([r[key] for r in runs]) for key in keys} | {
            "test_accuracies": [r["test_accuracy"] for r in runs]
        }

    result = {
        "a": figures("a") | _recorded(pairs, "a"),
        "b": figures("b") | _recorded(pairs, "b"),
        "time_ratio": median([p["time_ratio"] for p in pairs]),
        "pairs": pairs,
        "target": target,
    }
    met = result["time_ratio"] <= target["time_ratio"]
    if "accuracy" in target:
        met = met and result["b"]["test_accuracy"] >= target["accuracy"]
    if "threshold_ratio" in target:
        result["threshold_ratio"] = median([p["threshold_ratio"] for p in pairs])
        met = met and result["threshold_ratio"] is not None
        met = met and result["threshold_ratio"] <= target["threshold_ratio"]
    result["met"] = met
    return result


def _recorded(pairs: list[dict], side: str) -> dict:
    """The precision a recipe side trained in and the CPU kernels (oneDNN or Eigen) a side computed
    with, as its runs recorded them ("training" and "main_job" from the runner, "end_to_end" from
    the run's metrics.json; the keras-io script records no precision, and in "end_to_end" no
    kernels); a key is left out when the pairs disagree or did not record it."""
    found = {}
    for key in ("precision", "kernels"):
        values = {pair[side].get(key) for pair in pairs} - {None}
        if len(values) == 1:
            found[key] = values.pop()
    return found


def machine_record(record: dict, machine: str) -> dict:
    """This machine's entry of side_by_side.json's `machines` (added if it has none yet)."""
    for entry in record["machines"]:
        if entry["machine"] == machine:
            return entry
    record["machines"].append({"machine": machine, "comparisons": {}})
    return record["machines"][-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default=",".join(COMPARISONS), help="comma-separated comparisons")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an override of the mnist_cnn recipe, as for python -m modelzoo.recipes --set",
    )
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    parser.add_argument(
        "--reference-epochs",
        type=int,
        default=15,
        help="epochs of keras-io's example; the published 15 unless smoke-testing this script",
    )
    parser.add_argument("--job", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.job:
        in_process(json.loads(args.job))
        return

    from modelzoo import recipe_file

    only = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(only) - set(COMPARISONS))
    if unknown:
        parser.error(
            f"--only: unknown comparison(s) {', '.join(unknown)}; choose from {', '.join(COMPARISONS)}"
        )
    overrides = {}
    for item in args.sets:
        key, _, value = item.partition("=")
        overrides[key.strip()] = recipe_file.parse_value(value)
    recipe_file.load("mnist_cnn", overrides)  # a bad override fails here, before any training
    record = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if "machines" not in record:  # none yet, or a record from before there was one per machine
        record = {"machines": []}
    here = machine_record(record, describe())
    for name in only:
        result = compare(name, args, overrides)
        result |= {
            "measured_by": "python benchmarks/side_by_side.py"
            + f" --only {name}"
            + (f" --repeats {args.repeats}" if args.repeats != 3 else "")
            + "".join(f" --set {s}" for s in args.sets)
            + (
                f" --reference-epochs {args.reference_epochs}"
                if args.reference_epochs != 15
                else ""
            ),
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "repeats": args.repeats,
            "overrides": overrides if name != "main_job" else {},
        }
        if name == "main_job":
            result["before"] = MAIN_JOB_BEFORE
        here["comparisons"][name] = result
        print(f"{name}: b/a time {result['time_ratio']}; met: {result['met']}", flush=True)
        write_results.save(RESULTS, record)  # after each: a later comparison's crash keeps it


if __name__ == "__main__":
    main()
