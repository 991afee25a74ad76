"""Measure this CPU's limit: the fastest large matrix multiply TensorFlow runs, fp32 and bf16.

    python benchmarks/cpu_peak.py

`tf.matmul` in a `tf.function` (TensorFlow's default threading: every core) at each of SIZES,
float32 and bfloat16; numpy's float32 matmul as a cross-check. Each size gets a warm-up call,
then REPEATS timed repeats of about SECONDS each; a size's rate is its best repeat (contention
only ever slows a repeat down, so the best is the closest to the limit) and the peak is the
best size's. The medians are recorded beside them. `fp32_peak_gflops`, the figure every "of
fp32 peak" in RESULTS.md divides by, is the measured TensorFlow float32 rate.

The nominal figure, cores x FMA units x vector lanes x 2 x clock from /proc/cpuinfo, is kept
as context (`nominal_fp32_gflops`, `nominal_factors`): it is computed, not measured, and not
the peak. Writes benchmarks/results/cpu_peak.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe, load_average  # noqa: E402

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


def main() -> None:
    load_before = load_average()
    from modelzoo.cli import quiet_tensorflow

    quiet_tensorflow()
    import numpy as np
    import tensorflow as tf

    per_size = {
        "tf_float32": measure_tf("float32"),
        "tf_bfloat16": measure_tf("bfloat16"),
        "numpy_float32": measure_numpy(),
    }
    record = {
        "measured_by": "python benchmarks/cpu_peak.py",
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "versions": {"tensorflow": tf.__version__, "numpy": np.__version__},
        "method": (
            f"square matmuls of sizes {', '.join(map(str, SIZES))}; `tf.matmul` in a `tf.function` "
            "at TensorFlow's default threading (every core), and numpy's `@`; per size a warm-up "
            f"call, then {REPEATS} timed repeats of about {SECONDS:g} s; a size's rate is its best "
            "repeat and each figure the best size's (2 x size^3 FLOP per matmul)"
        ),
        "fp32_peak_gflops": best(per_size["tf_float32"]),
        "bf16_peak_gflops": best(per_size["tf_bfloat16"]),
        "numpy_fp32_gflops": best(per_size["numpy_float32"]),
        "per_size": per_size,
        **nominal(),
        "load_average": [load_before, load_average()],
    }
    print(
        f"measured: TF fp32 {record['fp32_peak_gflops']} GFLOP/s, TF bf16 {record['bf16_peak_gflops']} "
        f"GFLOP/s, numpy fp32 {record['numpy_fp32_gflops']} GFLOP/s; nominal (computed) fp32 "
        f"{record['nominal_fp32_gflops']} GFLOP/s"
    )
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
