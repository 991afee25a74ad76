"""Inference speed: the exported SavedModel through its serving signature, beside Keras `model.predict`.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/inference.py [--repeats 3] [--recipes mnist mnist_cnn]

For each recipe the model is built as the recipe builds it, exported the way `publish` exports
it (Keras ExportArchive, warmup records), and loaded by tag `serve` into a session, as TF
Serving's C++ loader does (`modelzoo.serving.Servable`). Weights do not change the cost, so the
model is not trained. Inputs are real MNIST test images (uint8).

For every batch size from 1 to 1024 (powers of two) and both paths, calls are timed one by one
for about `--seconds` each: the latency of one call (p50, p99) and examples per second (batch /
mean latency). The whole sweep repeats `--repeats` times, the paths alternating, and every
figure is the median over the repeats. Achieved GFLOP/s = forward FLOPs per example (counted by
`modelzoo.flops`) x examples per second, beside this CPU's fp32 peak from cpu_peak.json.
Writes benchmarks/results/inference.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "inference.json"
BATCH_SIZES = [2**k for k in range(11)]  # 1 .. 1024
HEADLINE_BATCHES = (1, 32, 256)
TARGET = {"recipe": "mnist_cnn", "batch": 256, "fraction_of_peak": 0.40}


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


def measure_recipe(name: str, images, repeats: int, seconds: float) -> dict:
    """Both paths at every batch size, `repeats` times; medians per (path, batch)."""
    from modelzoo import flops, recipe_file, recipe_model, saved_model, serving, tfserving

    model = recipe_model.build_model(recipe_file.load(name))
    input_key, output_key = saved_model.signature_keys(model)
    with tempfile.TemporaryDirectory() as folder:
        saved_model.write_saved_model(model, folder)
        tfserving.write_warmup_requests(Path(folder), name, input_key, images[:4])
        servable = serving.Servable(name, 1, Path(folder))
        paths = {
            "serving": lambda x: servable.run({input_key: x})[output_key],
            "keras_predict": lambda x: model.predict(x, batch_size=len(x), verbose=0),
        }
        rounds = {path: {batch: [] for batch in BATCH_SIZES} for path in paths}
        for repeat in range(repeats):
            for batch in BATCH_SIZES:
                for path, call in paths.items():
                    rounds[path][batch].append(
                        figures(time_calls(call, images[:batch], seconds), batch)
                    )
            print(f"  {name}: repeat {repeat + 1}/{repeats} done", flush=True)
        servable.close()

    forward = flops.forward_flops(model)
    result = {"forward_flops_per_example": forward, "parameters": model.count_params(), "paths": {}}
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--seconds", type=float, default=1.0, help="timing budget per (path, batch) and repeat"
    )
    parser.add_argument("--recipes", nargs="+", default=["mnist", "mnist_cnn"])
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    args = parser.parse_args()

    from modelzoo import data
    from modelzoo.cli import quiet_tensorflow

    quiet_tensorflow()
    images, _ = data.take_arrays(
        data.load("mnist", batch_size=1024, mirror=args.data_mirror).test, max(BATCH_SIZES)
    )
    peak = json.loads((ROOT / "benchmarks" / "results" / "cpu_peak.json").read_text())[
        "fp32_peak_gflops"
    ]
    import tensorflow as tf

    record = {
        "measured_by": "python benchmarks/inference.py"
        + (f" --repeats {args.repeats}" if args.repeats != 3 else "")
        + (f" --seconds {args.seconds}" if args.seconds != 1.0 else ""),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "versions": {"tensorflow": tf.__version__},
        "repeats": args.repeats,
        "fp32_peak_gflops": peak,
        "headline_batches": list(HEADLINE_BATCHES),
        "target": TARGET,
        "recipes": {},
    }
    for name in args.recipes:
        record["recipes"][name] = measure_recipe(name, images, args.repeats, args.seconds)
        for row in record["recipes"][name]["paths"]["serving"]:
            if row["batch"] in HEADLINE_BATCHES:
                print(
                    f"{name} serving batch {row['batch']}: {row['examples_per_s']:.0f} ex/s, p50 "
                    f"{row['p50_ms']:.2f} ms, "
                    f"p99 {row['p99_ms']:.2f} ms, {row['gflops']} GFLOP/s ({row['gflops'] / peak:.0%} of peak)"
                )
    target = record["recipes"].get(TARGET["recipe"])
    if target:
        row = next(r for r in target["paths"]["serving"] if r["batch"] == TARGET["batch"])
        record["target_fraction"] = round(row["gflops"] / peak, 4)
        record["met"] = record["target_fraction"] >= TARGET["fraction_of_peak"]
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
