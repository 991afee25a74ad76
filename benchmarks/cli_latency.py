"""Time the commands that must answer at once (target < 0.5 s) and a cold one-image predict in
each runtime (target < 1 s), and record the medians.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/cli_latency.py [--runs 15]

Each command runs in a fresh process, as a user would type it; the figure is the wall time
from start to exit. For `modelzoo predict` the benchmark first publishes `small_cnn` with its
shipped MNIST weights in every format into a temporary folder (`benchmarks/runtime_exports.py`:
int8 calibrated on 500 MNIST training images, judged on the test split), then classifies one
held-out digit photo (`modelzoo.datasets.wild_digits`, test split, as a PNG file) with
`--runtime` onnx, litert and litert-int8 (no TensorFlow), savedmodel (TensorFlow's session, for
contrast) and with no `--runtime` (the default). Writes benchmarks/results/cli_latency.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import runtime_exports, write_results  # noqa: E402
from benchmarks.machine import describe, load_average  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "cli_latency.json"
BIN = Path(sys.executable).parent
COMMANDS = [
    [str(BIN / "modelzoo"), "--help"],
    [str(BIN / "modelzoo"), "list"],
    [sys.executable, "-m", "modelzoo", "list", "--json"],
    [sys.executable, "-m", "modelzoo.recipes", "--help"],
    [sys.executable, "-m", "modelzoo.recipes", "list"],
    [str(BIN / "modelzoo"), "data"],
]

#: How the predict rows name the temporary export and the image.
SHOWN_EXPORT, SHOWN_IMAGE = "saved_models/mnist", "digit.png"
#: The runtimes timed for a cold one-image predict (None: no --runtime, the default).
PREDICT_RUNTIMES = ("onnx", "litert", "litert-int8", "savedmodel", None)
PREDICT_TARGET_S = 1.0


def time_command(command: list[str], runs: int) -> tuple[list[float], str]:
    """Wall times of `runs` fresh runs of `command` (after one untimed run), and its output."""
    done = subprocess.run(command, check=True, capture_output=True, text=True)  # file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times, done.stdout.strip()


def figures(times: list[float], runs: int) -> dict:
    return {
        "runs": runs,
        "median_s": round(statistics.median(times), 4),
        "max_s": round(max(times), 4),
    }


def time_predict(runs: int) -> dict:
    """A cold one-image predict in each runtime, on a fresh export in every format."""
    from PIL import Image

    from modelzoo import predict
    from modelzoo.datasets import wild_digits
    from modelzoo.quiet import quiet_tensorflow

    quiet_tensorflow()
    images, labels, kinds = wild_digits.load("test")
    with tempfile.TemporaryDirectory() as folder:
        version = runtime_exports.publish_every_format("small_cnn", "mnist", folder, "mnist")
        image = Path(folder) / SHOWN_IMAGE
        Image.fromarray(images[0]).save(image)
        default = predict.choose_runtime(version.parent)[1]
        rows = []
        for runtime in PREDICT_RUNTIMES:
            option = ["--runtime", runtime] if runtime else []
            command = [str(BIN / "modelzoo"), "predict", *option, str(version.parent), str(image)]
            times, answer = time_command(command, runs)
            shown = " ".join(["modelzoo predict", *option, SHOWN_EXPORT, SHOWN_IMAGE])
            rows.append(
                {
                    "command": shown,
                    "runtime": runtime or default,
                    "default": runtime is None,
                    **figures(times, runs),
                    "answer": answer.replace(str(image), SHOWN_IMAGE),
                }
            )
            print(f"{shown:60s} median {rows[-1]['median_s']:.3f} s  max {rows[-1]['max_s']:.3f} s")
        sizes = runtime_exports.file_sizes(version)
    return {
        "target_s": PREDICT_TARGET_S,
        "export": "small_cnn with its shipped mnist weights, published in every format",
        "image": f"wild_digits test example 0 ({kinds[0]}, label {labels[0]}), "
        f"{images[0].shape[1]}x{images[0].shape[0]} PNG",
        "file_bytes": sizes,
        "commands": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    load_before = load_average()
    rows = []
    for command in COMMANDS:
        times, _ = time_command(command, args.runs)
        shown = " ".join(
            [
                "modelzoo" if c.endswith("/modelzoo") else "python" if c == sys.executable else c
                for c in command
            ]
        )
        rows.append({"command": shown, **figures(times, args.runs)})
        print(f"{shown:45s} median {rows[-1]['median_s']:.3f} s  max {rows[-1]['max_s']:.3f} s")
    write_results.save(
        RESULTS,
        {
            "measured_by": "python benchmarks/cli_latency.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "target_s": 0.5,
            "commands": rows,
            "predict": time_predict(args.runs),
            "load_average": [load_before, load_average()],
        },
    )


if __name__ == "__main__":
    main()
