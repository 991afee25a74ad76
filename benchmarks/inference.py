"""Inference speed: an export in every runtime (the SavedModel through its serving signature,
ONNX Runtime, LiteRT float32 and int8), beside Keras `model.predict`.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/inference.py [--repeats 3] [--recipes mnist mnist_cnn]

For each recipe, the model its shipped weights were trained for is published with those
weights in every format, as `publish` writes them (`benchmarks/runtime_exports.py`: the int8
model calibrated on 500 MNIST training images and judged on the test split; weights do not
change the float cost, but an int8 model is published only when it keeps its accuracy). The
SavedModel is loaded by tag `serve` into a session, as TF Serving's C++ loader does
(`modelzoo.serving.Servable`); the other files run in their runtimes as `modelzoo predict
--runtime` runs them (`modelzoo.runtimes`: every core for each runtime). Inputs are real
MNIST test images (uint8).

Calls are timed one by one for about `--seconds` each: the latency of one call (p50, p99) and
examples per second (batch / mean latency). The serving signature is timed at every batch size
from 1 to 1024 (powers of two), the other paths at batch 1, 32 and 256. The whole sweep repeats
`--repeats` times, the paths alternating, and every figure is the median over the repeats.
Achieved GFLOP/s = forward FLOPs per example (counted by `modelzoo.flops`) x examples per
second. RESULTS.md sets it beside the fp32 peak measured on the same machine (cpu_peak.json) when it renders,
and judges TARGET then, so a new peak restates them without a rerun. TensorFlow computes with the
CPU kernels the `modelzoo` commands ask for (`modelzoo.hardware.prefer_onednn`). Writes this
machine's record in benchmarks/results/inference.json (other machines' are kept) and
regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import runtime_exports, write_results  # noqa: E402
from benchmarks.machine import describe, load_average  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "inference.json"
BATCH_SIZES = [2**k for k in range(11)]  # 1 .. 1024
HEADLINE_BATCHES = (1, 32, 256)
TARGET = {"recipe": "mnist_cnn", "batch": 256, "fraction_of_peak": 0.40}
#: The export formats timed beside the SavedModel, each in its own runtime.
RUNTIMES = ("onnx", "litert", "litert-int8")


def time_calls(call, batch, seconds: float, min_calls: int = 10) -> list[float]:
    """Wall times of repeated `call(batch)`, after one untimed call."""
    call(batch)
    times, deadline = [], time.perf_counter() + seconds
    while len(times) < min_calls or time.perf_counter() < deadline:
        start = time.perf_counter()
        call(batch)
        times.append(time.perf_counter() - start)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figures(times: list[float], batch: int) -> dict:
    return {
        "p50_ms": percentile(times, 0.50) * 1e3,
        "p99_ms": percentile(times, 0.99) * 1e3,
        "examples_per_s": batch / statistics.fmean(times),
        "calls": len(times),
    }


def shipped_weights(recipe: str):
    """The shipped weights the recipe trained: (model name, tag)."""
    from modelzoo import weights

    for entry in weights.STORE.entries():
        if entry.recipe == recipe:
            return entry.model, entry.tag
    raise SystemExit(f"recipe {recipe!r} has no shipped weights to publish in every format")


def measure_recipe(name: str, images, mirror, repeats: int, seconds: float) -> dict:
    """Every path at its batch sizes, `repeats` times; medians per (path, batch)."""
    from modelzoo import flops, predict, serving, storage

    model_name, tag = shipped_weights(name)
    with tempfile.TemporaryDirectory() as folder:
        version = runtime_exports.publish_every_format(model_name, tag, folder, name, mirror)
        card = storage.read_card(version)
        model = serving.Servable(name, 1, version)  # the published SavedModel, as TF Serving
        signature = model.signature(None)
        input_key, output_key = signature.input.name, next(iter(signature.outputs))
        keras_model = _keras_model(model_name, tag)
        loaded = {runtime: predict.open_export(version, runtime) for runtime in RUNTIMES}
        paths = {
            "serving": lambda x: model.run({input_key: x})[output_key],
            **{
                runtime: (lambda x, r=loaded[runtime]: r.run({input_key: x})[output_key])
                for runtime in RUNTIMES
            },
            "keras_predict": lambda x: keras_model.predict(x, batch_size=len(x), verbose=0),
        }
        batches = {path: BATCH_SIZES if path == "serving" else HEADLINE_BATCHES for path in paths}
        rounds = {path: {batch: [] for batch in batches[path]} for path in paths}
        for repeat in range(repeats):
            for batch in BATCH_SIZES:
                for path, call in paths.items():
                    if batch in batches[path]:
                        rounds[path][batch].append(
                            figures(time_calls(call, images[:batch], seconds), batch)
                        )
            print(f"  {name}: repeat {repeat + 1}/{repeats} done", flush=True)
        model.close()
        sizes = runtime_exports.file_sizes(version)
        versions = {runtime: loaded[runtime].version() for runtime in ("onnx", "litert")}

    forward = flops.forward_flops(keras_model)
    int8 = card["formats"]["litert-int8"]
    result = {
        "weights": f"{model_name}:{tag}",
        "forward_flops_per_example": forward,
        "parameters": keras_model.count_params(),
        "file_bytes": sizes,
        "runtime_versions": versions,
        "int8_test_accuracy": {
            "float": round(int8["float_accuracy"], 4),
            "int8": round(int8["accuracy"], 4),
            "examples": int8["examples"],
        },
        "paths": {},
    }
    for path, by_batch in rounds.items():
        result["paths"][path] = [
            {
                "batch": batch,
                **{
                    key: round(statistics.median(r[key] for r in runs), 4)
                    for key in ("p50_ms", "p99_ms", "examples_per_s")
                },
                "gflops": round(
                    forward * statistics.median(r["examples_per_s"] for r in runs) / 1e9, 2
                ),
            }
            for batch, runs in by_batch.items()
        ]
    return result


def _keras_model(model_name: str, tag: str):
    from modelzoo.registry import create_model

    return create_model(model_name, weights=tag)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="timing budget per (path, batch) and repeat"
    )
    parser.add_argument("--recipes", nargs="+", default=["mnist", "mnist_cnn"])
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    args = parser.parse_args()
    load_before = load_average()

    from modelzoo import hardware
    from modelzoo.cli import quiet_tensorflow

    # the CPU kernels `modelzoo serve` and `modelzoo predict` compute with (before TensorFlow loads)
    hardware.prefer_onednn()

    quiet_tensorflow()
    images = runtime_exports.mnist_test_images(args.data_mirror)[: max(BATCH_SIZES)]
    peak = write_results.fp32_peak(describe())
    import tensorflow as tf

    record = {
        "measured_by": "python benchmarks/inference.py"
        + (f" --repeats {args.repeats}" if args.repeats != 3 else "")
        + (f" --seconds {args.seconds}" if args.seconds != 1.0 else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "versions": {"tensorflow": tf.__version__},
        "kernels": hardware.cpu_kernels(),
        "repeats": args.repeats,
        "headline_batches": list(HEADLINE_BATCHES),
        "target": TARGET,
        "recipes": {},
    }
    for name in args.recipes:
        record["recipes"][name] = measure_recipe(
            name, images, args.data_mirror, args.repeats, args.seconds
        )
        for path, rows in record["recipes"][name]["paths"].items():
            for row in rows:
                if row["batch"] in HEADLINE_BATCHES:
                    print(
                        f"{name} {path} batch {row['batch']}: {row['examples_per_s']:.0f} ex/s, "
                        f"p50 {row['p50_ms']:.2f} ms, p99 {row['p99_ms']:.2f} ms, "
                        f"{row['gflops']} GFLOP/s ({write_results.of_peak(row['gflops'], peak)} of fp32 peak)"
                    )
    record["load_average"] = [load_before, load_average()]
    write_results.save_machine_record(RESULTS, record)


if __name__ == "__main__":
    main()
