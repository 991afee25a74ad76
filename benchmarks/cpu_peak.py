"""Work out this CPU's fp32 peak, cores x FMA units x vector lanes x 2 x clock, and record each factor.

    python benchmarks/cpu_peak.py

Reads /proc/cpuinfo (flags, clock, vendor and family) and `os.cpu_count()`; writes
benchmarks/results/cpu_peak.json, from which RESULTS.md quotes the peak and its derivation.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "cpu_peak.json"
#: FMA-capable vector pipes per core, by (vendor, CPU family) as documented by the vendor.
FMA_UNITS = {("AuthenticAMD", 23): 2, ("AuthenticAMD", 25): 2, ("AuthenticAMD", 26): 2}


def measure() -> dict:
    info = {}
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        info.setdefault(key.strip(), value.strip())
    flags = info.get("flags", "").split()
    vendor, family = info.get("vendor_id", "?"), int(info.get("cpu family", "0"))
    cores = os.cpu_count() or 1
    lanes = 16 if "avx512f" in flags else 8 if {"avx2", "fma"} <= set(flags) else 4
    fma_units = FMA_UNITS.get((vendor, family), 2)
    ghz = float(info.get("cpu MHz", "0")) / 1000
    peak = cores * fma_units * lanes * 2 * ghz
    factors = [
        f"cores: {cores} (`os.cpu_count()`; one thread per core)",
        f"FMA units per core: {fma_units} ({vendor}, CPU family {family}"
        + (": AMD Zen 3, two 256-bit FMA pipes per core)" if (vendor, family) == ("AuthenticAMD", 25) else ")"),
        f"vector lanes: {lanes} fp32 ("
        + ("AVX-512" if lanes == 16 else "AVX2 + FMA; no avx512* flags, so no AVX-512 and no AVX-512 BF16" if lanes == 8 else "SSE")
        + " in /proc/cpuinfo flags)",
        "2 FLOP per lane per FMA (a multiply and an add)",
        f"clock: {ghz:.3f} GHz (`cpu MHz` in /proc/cpuinfo; a KVM guest does not see boost clocks, so the true peak may be higher)",
    ]
    return {"measured_by": "python benchmarks/cpu_peak.py", "date": time.strftime("%Y-%m-%d"), "machine": describe(),
            "fp32_peak_gflops": round(peak, 1), "factors": factors, "avx512": lanes == 16}


def main() -> None:
    record = measure()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    print(f"fp32 peak {record['fp32_peak_gflops']} GFLOP/s; wrote {RESULTS}")
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "write_results.py")], check=True)


if __name__ == "__main__":
    main()
