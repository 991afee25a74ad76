"""Measure this CPU's limit: the fastest large matrix multiply TensorFlow runs, fp32 and bf16.

    python benchmarks/cpu_peak.py

`tf.matmul` in a `tf.function` (TensorFlow's default threading: every core) at each of SIZES,
float32 and bfloat16, in a fresh process with each of TensorFlow's CPU kernels (Eigen and
oneDNN, which TensorFlow picks between by CPU and modelzoo's commands ask for); numpy's float32
matmul as a cross-check. Each size gets a warm-up call,
then REPEATS timed repeats of about SECONDS each; a size's rate is its best repeat (contention
only ever slows a repeat down, so the best is the closest to the limit) and the peak is the
best size's with the faster kernels. The medians are recorded beside them. `fp32_peak_gflops`,
the figure every "of fp32 peak" of a record from this machine divides by, is the measured
TensorFlow float32 rate. The record is this machine's in cpu_peak.json (other machines' are kept).

The nominal figure, cores x FMA units x vector lanes x 2 x clock from /proc/cpuinfo, is kept
as context (`nominal_fp32_gflops`, `nominal_factors`): it is computed, not measured, and not
the peak. Writes benchmarks/results/cpu_peak.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import answer_child, describe, load_average, run_child  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "cpu_peak.json"
#: Square matrix sizes timed, and each repeat's length and count.
SIZES = (1024, 2048, 4096)
SECONDS = 1.0
REPEATS = 3
#: FMA pipes per core and their width in bits, by (vendor, CPU family), as the vendor documents them.
#: AMD family 25 covers Zen 3 and Zen 4: both have two 256-bit FMA pipes, and Zen 4 runs an
#: AVX-512 instruction through them in two halves, so AVX-512 does not double its fp32 peak.
FMA_DATAPATH = {
    ("AuthenticAMD", 23): (2, 256, "AMD Zen 2"),
    ("AuthenticAMD", 25): (2, 256, "AMD Zen 3 / Zen 4"),
    ("AuthenticAMD", 26): (2, 512, "AMD Zen 5"),
}


def nominal() -> dict:
    """The computed fp32 figure, cores x FMA units x lanes x 2 x clock, with each factor."""
    info: dict[str, str] = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = info.get("flags", "").split()
    vendor, family = info.get("vendor_id", "?"), int(info.get("cpu family", "0"))
    cores = os.cpu_count() or 1
    isa_bits = 512 if "avx512f" in flags else 256 if {"avx2", "fma"} <= set(flags) else 128
    fma_units, pipe_bits, generation = FMA_DATAPATH.get(
        (vendor, family), (2, isa_bits, "width of the widest ISA")
    )
    lanes = min(isa_bits, pipe_bits) // 32
    ghz = float(info.get("cpu MHz", "0")) / 1000
    factors = [
        f"cores: {cores} (`os.cpu_count()`; one thread per core)",
        f"FMA units per core: {fma_units}, {pipe_bits} bits wide ({vendor}, CPU family {family}: {generation})",
        f"vector lanes: {lanes} fp32 per FMA pipe (instruction set: "
        + ("AVX-512" if isa_bits == 512 else "AVX2 + FMA" if isa_bits == 256 else "SSE")
        + (f", executed on {pipe_bits}-bit pipes" if pipe_bits < isa_bits else "")
        + "; /proc/cpuinfo flags"
        + (", which also list avx512_bf16" if "avx512_bf16" in flags else "")
        + ")",
        "2 FLOP per lane per FMA (a multiply and an add)",
        f"clock: {ghz:.3f} GHz (`cpu MHz` in /proc/cpuinfo; a KVM guest does not see boost clocks)",
    ]
    return {
        "nominal_fp32_gflops": round(cores * fma_units * lanes * 2 * ghz, 1),
        "nominal_factors": factors,
        "avx512": isa_bits == 512,
        "avx512_bf16": "avx512_bf16" in flags,
    }


def time_matmul(
    multiply: Callable[[], object], size: int, seconds: float = SECONDS, repeats: int = REPEATS
) -> dict:
    """GFLOP/s of `multiply` (one size x size matmul per call): best and median of `repeats`."""
    multiply()  # warm-up: traces the function, allocates, spins up the threads
    start = time.perf_counter()
    multiply()
    calls = max(1, round(seconds / (time.perf_counter() - start)))
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            multiply()
        rates.append(2 * size**3 * calls / (time.perf_counter() - start) / 1e9)
    return {
        "size": size,
        "calls_per_repeat": calls,
        "best_gflops": round(max(rates), 1),
        "median_gflops": round(statistics.median(rates), 1),
        "repeats_gflops": [round(r, 1) for r in rates],
    }


def measure_tf(dtype: str) -> list[dict]:
    """`tf.matmul` in a `tf.function` at each of SIZES, in `dtype`."""
    import tensorflow as tf

    matmul = tf.function(tf.matmul)
    rows = []
    for size in SIZES:
        a, b = (tf.cast(tf.random.stateless_normal((size, size), (s, 0)), dtype) for s in (1, 2))
        rows.append(time_matmul(lambda a=a, b=b: matmul(a, b), size))
    return rows


def measure_numpy() -> list[dict]:
    """numpy's float32 matmul at each of SIZES (its BLAS, default threads)."""
    import numpy as np

    rng = np.random.default_rng(0)
    rows = []
    for size in SIZES:
        a, b = (rng.standard_normal((size, size), dtype=np.float32) for _ in range(2))
        rows.append(time_matmul(lambda a=a, b=b: a @ b, size))
    return rows


def best(rows: list[dict]) -> float:
    """The best rate of any size."""
    return max(row["best_gflops"] for row in rows)


#: TF_ENABLE_ONEDNN_OPTS of the two processes that time TensorFlow: its Eigen kernels, and oneDNN's.
KERNEL_SETTINGS = ("0", "1")


def measure_tf_kernels(job: dict) -> dict:
    """This process's TensorFlow float32 and bfloat16 rates, and the CPU kernels it computed with
    (a `run_child` job, which needs nothing but the kernels' setting in its environment)."""
    from modelzoo import hardware

    return {
        "kernels": hardware.cpu_kernels(),
        "tf_float32": measure_tf("float32"),
        "tf_bfloat16": measure_tf("bfloat16"),
    }


def fastest(by_kernels: dict[str, dict], key: str) -> tuple[float, str]:
    """(GFLOP/s, kernels) of the fastest kernels' best size for `key` ("tf_float32", ...)."""
    return max((best(measured[key]), kernels) for kernels, measured in by_kernels.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    if answer_child(parser.parse_args().one, measure_tf_kernels):
        return
    load_before = load_average()
    import numpy as np

    by_kernels = {}
    for setting in KERNEL_SETTINGS:
        measured = run_child(__file__, {}, setting)
        kernels = measured.pop("kernels")
        if kernels in by_kernels or kernels == "unknown":
            raise SystemExit(
                f"TF_ENABLE_ONEDNN_OPTS={setting}: TensorFlow reports its CPU kernels as {kernels}, "
                f"which does not tell them apart from the other run's; this TensorFlow cannot be "
                "measured kernel by kernel here"
            )
        by_kernels[kernels] = measured
        print(f"TF_ENABLE_ONEDNN_OPTS={setting}: {json.dumps(measured)[:300]}", flush=True)
    fp32, fp32_kernels = fastest(by_kernels, "tf_float32")
    bf16, bf16_kernels = fastest(by_kernels, "tf_bfloat16")
    numpy_rows = measure_numpy()
    from importlib.metadata import version

    record = {
        "measured_by": "python benchmarks/cpu_peak.py",
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "versions": {"tensorflow": version("tensorflow"), "numpy": np.__version__},
        "method": (
            f"square matmuls of sizes {', '.join(map(str, SIZES))}; `tf.matmul` in a `tf.function` "
            "at TensorFlow's default threading (every core), in one fresh process with each of "
            "TensorFlow's CPU kernels (TF_ENABLE_ONEDNN_OPTS=0: Eigen, 1: oneDNN), and numpy's "
            f"`@`; per size a warm-up call, then {REPEATS} timed repeats of about {SECONDS:g} s; a "
            "size's rate is its best repeat and each peak the best size's with the faster kernels "
            "(2 x size^3 FLOP per matmul)"
        ),
        "fp32_peak_gflops": fp32,
        "fp32_peak_kernels": fp32_kernels,
        "bf16_peak_gflops": bf16,
        "bf16_peak_kernels": bf16_kernels,
        "numpy_fp32_gflops": best(numpy_rows),
        "per_kernels": by_kernels,
        "per_size": {"numpy_float32": numpy_rows},
        **nominal(),
        "load_average": [load_before, load_average()],
    }
    print(
        f"measured: TF fp32 {fp32} GFLOP/s ({fp32_kernels}), TF bf16 {bf16} GFLOP/s "
        f"({bf16_kernels}), numpy fp32 {record['numpy_fp32_gflops']} GFLOP/s; nominal (computed) "
        f"fp32 {record['nominal_fp32_gflops']} GFLOP/s"
    )
    write_results.save_machine_record(RESULTS, record)


if __name__ == "__main__":
    main()
