"""Time-to-accuracy, side by side: the keras-io MNIST convnet as published against the mnist_cnn recipe.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/side_by_side.py [--repeats 3] [--set key=value ...]

The two alternate (a, b, a, b, ...), each in a fresh process, on the same MNIST data:

- (a) keras-io `mnist_convnet`: float input in [0, 1], Conv2D(32, 3) ReLU, MaxPooling 2,
  Conv2D(64, 3) ReLU, MaxPooling 2, Flatten, Dropout 0.5, Dense(10) softmax; Adam defaults,
  categorical cross-entropy, batch 128, 15 epochs, validation_split 0.1, NumPy arrays in memory.
- (b) `python -m modelzoo.recipes mnist_cnn` at its defaults (`--set` overrides try a lever).

For each run: training wall time (the epochs, their validation included, without this script's
test evaluations), the final test accuracy, and the training time until test accuracy first
reached 99.0% (evaluated after every epoch, off the clock). The figures are medians over the
repeats; the ratio b/a is taken within each pair, then the median. Writes
benchmarks/results/side_by_side.json and regenerates benchmarks/RESULTS.md.
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
from benchmarks.machine import describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "side_by_side.json"
THRESHOLD = 0.99
TARGET = {"accuracy": 0.993, "time_ratio": 0.5}


def test_clock(x_test, y_test):
    """A Keras callback timing each epoch and evaluating on the test split off the clock."""
    import keras

    class TestClock(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.training_seconds, self.epochs = 0.0, []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # runs after the epoch's own validation
            self.training_seconds += time.perf_counter() - self._start
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


def summary(clock) -> dict:
    reached = next(
        (e["training_seconds"] for e in clock.epochs if e["test_accuracy"] >= THRESHOLD), None
    )
    return {
        "training_seconds": round(clock.training_seconds, 2),
        "test_accuracy": clock.epochs[-1]["test_accuracy"],
        "seconds_to_99": reached,
        "epochs": clock.epochs,
    }


def mnist_arrays(mirror: str | None):
    """MNIST as NumPy arrays from the same tfds data the recipe reads."""
    import numpy as np
    import tensorflow_datasets as tfds

    from modelzoo import data

    data.load("mnist", mirror=mirror)  # prepares the tfds data from the mirror if needed
    arrays = {}
    for split in ("train", "test"):
        x, y = tfds.as_numpy(tfds.load("mnist", split=split, as_supervised=True, batch_size=-1))
        arrays[split] = (x.astype("float32") / 255, np.eye(10, dtype="float32")[y])
    return arrays


def run_reference(mirror: str | None, epochs: int = 15) -> dict:
    """(a): the keras-io example as published, plus the test clock."""
    import keras

    arrays = mnist_arrays(mirror)
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    clock = test_clock(x_test, y_test)
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=epochs,
        validation_split=0.1,
        callbacks=[clock],
        verbose=0,
    )
    return summary(clock)


def run_recipe(mirror: str | None, overrides: dict) -> dict:
    """(b): the mnist_cnn recipe through modelzoo's own runner, plus the test clock."""
    import numpy as np

    from modelzoo import data, recipe_file, training

    resolved = recipe_file.load("mnist_cnn", overrides)
    x_test, y_test = data.take_arrays(data.load("mnist", mirror=mirror).test, 10_000)
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
    return summary(clock)


def one_run(which: str, mirror: str | None, overrides: dict, reference_epochs: int) -> None:
    """In a fresh process: train (a) or (b) once and print its figures as JSON on the last line."""
    import keras

    keras.utils.set_random_seed(0)
    result = (
        run_reference(mirror, reference_epochs) if which == "a" else run_recipe(mirror, overrides)
    )
    print(json.dumps(result))


def spawn(which: str, mirror: str | None, overrides: dict, reference_epochs: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--one",
        which,
        "--overrides",
        json.dumps(overrides),
        "--reference-epochs",
        str(reference_epochs),
    ]
    if mirror:
        command += ["--data-mirror", mirror]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"run {which} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 4) if values else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
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
        help="epochs of (a); the published 15 unless smoke-testing this script",
    )
    parser.add_argument("--one", choices=("a", "b"), help=argparse.SUPPRESS)
    parser.add_argument("--overrides", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_run(args.one, args.data_mirror, json.loads(args.overrides), args.reference_epochs)
        return

    from modelzoo import recipe_file

    overrides = {}
    for item in args.sets:
        key, _, value = item.partition("=")
        overrides[key.strip()] = recipe_file.parse_value(value)
    recipe_file.load("mnist_cnn", overrides)  # a bad override fails here, before any training
    pairs = []
    for repeat in range(1, args.repeats + 1):
        a = spawn("a", args.data_mirror, overrides, args.reference_epochs)
        print(
            f"[{repeat}] a: {a['training_seconds']:.1f} s, test {a['test_accuracy']:.2%}, 99% "
            f"after {a['seconds_to_99']} s",
            flush=True,
        )
        b = spawn("b", args.data_mirror, overrides, args.reference_epochs)
        print(
            f"[{repeat}] b: {b['training_seconds']:.1f} s, test {b['test_accuracy']:.2%}, 99% "
            f"after {b['seconds_to_99']} s",
            flush=True,
        )
        pairs.append(
            {"a": a, "b": b, "time_ratio": round(b["training_seconds"] / a["training_seconds"], 4)}
        )

    def figures(key):
        runs = [pair[key] for pair in pairs]
        return {
            "training_seconds": median([r["training_seconds"] for r in runs]),
            "test_accuracy": median([r["test_accuracy"] for r in runs]),
            "seconds_to_99": median([r["seconds_to_99"] for r in runs]),
        }

    a, b = figures("a"), figures("b")
    ratio = median([p["time_ratio"] for p in pairs])
    met = b["test_accuracy"] >= TARGET["accuracy"] and ratio <= TARGET["time_ratio"]
    record = {
        "measured_by": "python benchmarks/side_by_side.py"
        + "".join(f" --set {s}" for s in args.sets)
        + (f" --reference-epochs {args.reference_epochs}" if args.reference_epochs != 15 else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "repeats": args.repeats,
        "reference_epochs": args.reference_epochs,
        "overrides": overrides,
        "reference": a,
        "recipe": b,
        "time_ratio": ratio,
        "target": f"mnist_cnn >= {TARGET['accuracy']:.1%} test accuracy at <= "
        f"{TARGET['time_ratio']} x the reference's training time",
        "met": met,
        "pairs": pairs,
    }
    print(
        f"median: a {a['training_seconds']} s at {a['test_accuracy']:.2%}; b {b['training_seconds']} s at "
        f"{b['test_accuracy']:.2%}; b/a time {ratio}; target met: {met}"
    )
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
