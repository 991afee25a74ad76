"""Work out this CPU's fp32 peak, cores x FMA units x vector lanes x 2 x clock, and record each factor.

    python benchmarks/cpu_peak.py

Reads /proc/cpuinfo (flags, clock, vendor and family) and `os.cpu_count()`; writes
benchmarks/results/cpu_peak.json, from which RESULTS.md quotes the peak and its derivation.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "cpu_peak.json"
#: FMA pipes per core and their width in bits, by (vendor, CPU family), as the vendor documents them.
#: AMD family 25 covers Zen 3 and Zen 4: both have two 256-bit FMA pipes, and Zen 4 runs an
#: AVX-512 instruction through them in two halves, so AVX-512 does not double its fp32 peak.
FMA_DATAPATH = {
    ("AuthenticAMD", 23): (2, 256, "AMD Zen 2"),
    ("AuthenticAMD", 25): (2, 256, "AMD Zen 3 / Zen 4"),
    ("AuthenticAMD", 26): (2, 512, "AMD Zen 5"),
}


def measure() -> dict:
    info = {}
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
    peak = cores * fma_units * lanes * 2 * ghz
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
        f"clock: {ghz:.3f} GHz (`cpu MHz` in /proc/cpuinfo; a KVM guest does not see boost clocks, "
        "so the true peak may be higher)",
    ]
    return {
        "measured_by": "python benchmarks/cpu_peak.py",
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "fp32_peak_gflops": round(peak, 1),
        "factors": factors,
        "avx512": isa_bits == 512,
        "avx512_bf16": "avx512_bf16" in flags,
    }


def main() -> None:
    record = measure()
    print(f"fp32 peak {record['fp32_peak_gflops']} GFLOP/s")
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
