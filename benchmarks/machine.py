"""A one-line description of the machine a benchmark ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def describe() -> str:
    """CPU model and vector unit, core count, memory and Python version, e.g. for a results file."""
    from modelzoo.hardware import describe_vector_unit

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    return (
        f"{cpu} ({describe_vector_unit()}), {os.cpu_count()} cores{memory}, "
        f"Python {platform.python_version()}"
    )


def load_average() -> float:
    """The 1-minute load average: above the core count, other work competed for the CPU."""
    return round(os.getloadavg()[0], 2)
