"""A one-line description of the machine a benchmark ran on."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from collections.abc import Callable
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


def child_env(kernels: str = "modelzoo") -> dict[str, str]:
    """The environment for a benchmark's child process: TensorFlow's C++ logging quiet, and the CPU
    kernels it computes with:

    - "modelzoo": those modelzoo's commands ask for (`modelzoo.hardware.prefer_onednn`; a
      TF_ENABLE_ONEDNN_OPTS the user set wins),
    - "inherited": this process's environment as it is (a script that imports TensorFlow itself),
    - "tensorflow": TensorFlow's own default for this CPU, whatever the user set,
    - "0" or "1": TF_ENABLE_ONEDNN_OPTS as given.
    """
    from modelzoo import hardware

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if kernels == "modelzoo":
        hardware.prefer_onednn(env)
    elif kernels == "tensorflow":
        env.pop(hardware.ONEDNN_ENV, None)
    elif kernels in ("0", "1"):
        env[hardware.ONEDNN_ENV] = kernels
    elif kernels != "inherited":
        raise ValueError(f"kernels {kernels!r}: one of modelzoo, inherited, tensorflow, 0, 1")
    return env


def run_child(script: str, job: dict, kernels: str = "modelzoo") -> dict:
    """`python script --one <job as JSON>` in a fresh process with `child_env(kernels)`: the JSON
    its last line of output prints. Exits naming the job, and the end of its stderr, if it fails."""
    done = subprocess.run(
        [sys.executable, script, "--one", json.dumps(job)],
        capture_output=True,
        text=True,
        env=child_env(kernels),
    )
    if done.returncode != 0:
        raise SystemExit(
            f"{Path(script).name} {job} (kernels: {kernels}) failed:\n{done.stderr[-3000:]}"
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def answer_child(one: str | None, run: Callable[[dict], dict]) -> bool:
    """The child's side of `run_child`: with a `--one` job (`one`, JSON), print `run(job)` as JSON
    and return True (the script's work is done); without one, return False."""
    if one is None:
        return False
    print(json.dumps(run(json.loads(one))))
    return True
