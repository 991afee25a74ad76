"""What the machine computes natively, for `train.precision = "auto"`.

bfloat16 pays only where the hardware has bfloat16 arithmetic: oneDNN's AVX-512 BF16 and AMX
kernels on x86 CPUs, the BF16 extension on Arm CPUs, tensor cores of compute capability 8.0 or
more on NVIDIA GPUs. Elsewhere TensorFlow emulates it, and a model trains several times slower
than in float32 (`python benchmarks/mixed_precision.py` measures both on a machine).

On Linux, TensorFlow turns its oneDNN CPU kernels on by itself only where the CPU has neural
network instructions (AVX-512 VNNI or BF16, AVX-VNNI, AMX; `DefaultOneDnnPolicy` in TensorFlow's
tensorflow/core/util/port.cc); elsewhere (an AVX2 CPU, say) it computes with Eigen's unless
TF_ENABLE_ONEDNN_OPTS=1. modelzoo's commands (`modelzoo`, `python -m modelzoo.recipes`) set it
before TensorFlow loads (`prefer_onednn`), unless the user chose a value; importing modelzoo
leaves it alone; `python benchmarks/mixed_precision.py` measures both kernels.
"""

from __future__ import annotations

import os
import platform
from collections.abc import MutableMapping
from pathlib import Path

#: /proc/cpuinfo flags that mean native bfloat16 arithmetic (x86: AVX-512 BF16, AMX; Arm: BF16).
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
#: The first NVIDIA compute capability with bfloat16 tensor cores (Ampere).
BFLOAT16_GPU_CAPABILITY = (8, 0)
CPUINFO = Path("/proc/cpuinfo")
#: TensorFlow's switch for its oneDNN CPU kernels ("1" on, "0" off, unset: TensorFlow's choice).
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
#: `platform.machine()` of the CPUs whose oneDNN kernels the commands ask for.
X86_64 = frozenset({"x86_64", "amd64"})


def cpu_flags(cpuinfo: Path = CPUINFO) -> frozenset[str]:
    """The CPU's feature flags as Linux lists them ("flags" on x86, "Features" on Arm); empty
    where there is no /proc/cpuinfo."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_has_bfloat16(flags: frozenset[str] | None = None) -> bool:
    """Whether TensorFlow computes bfloat16 natively on the CPU (`flags` default this machine's):
    the CPU has the arithmetic, and oneDNN, whose kernels use it, is not turned off
    (TF_ENABLE_ONEDNN_OPTS=0)."""
    if os.environ.get(ONEDNN_ENV, "").strip() == "0":
        return False
    return bool((cpu_flags() if flags is None else flags) & BFLOAT16_CPU_FLAGS)


def prefer_onednn(
    environ: MutableMapping[str, str] | None = None, machine: str | None = None
) -> None:
    """Have TensorFlow, when it loads, use oneDNN's CPU kernels on an x86-64 CPU (`machine`
    default: this one's), unless `environ` (default: this process's environment) already says
    TF_ENABLE_ONEDNN_OPTS. Elsewhere (Arm, where TensorFlow's oneDNN goes through other kernels and
    nothing here has been measured) TensorFlow keeps its own choice. Imports nothing; it has no
    effect once TensorFlow is loaded."""
    if (platform.machine() if machine is None else machine).lower() not in X86_64:
        return
    (os.environ if environ is None else environ).setdefault(ONEDNN_ENV, "1")


def cpu_kernels() -> str:
    """The CPU kernels the loaded TensorFlow computes with: "oneDNN" or "Eigen" (imports TensorFlow;
    reads TensorFlow's own answer, which an unset TF_ENABLE_ONEDNN_OPTS leaves to the CPU), or
    "unknown" where a TensorFlow release no longer answers there (a private module)."""
    import tensorflow as tf  # noqa: F401  (loads the library whose answer is read)

    try:
        from tensorflow.python.util import _pywrap_util_port

        enabled = _pywrap_util_port.IsMklEnabled()
    except (ImportError, AttributeError):
        return "unknown"
    return "oneDNN" if enabled else "Eigen"


def gpu_capabilities() -> list[tuple[int, int]]:
    """The compute capability of each GPU TensorFlow sees (imports TensorFlow)."""
    import tensorflow as tf

    return [
        tuple(tf.config.experimental.get_device_details(gpu).get("compute_capability", (0, 0)))
        for gpu in tf.config.list_physical_devices("GPU")
    ]


def auto_precision(
    flags: frozenset[str] | None = None, gpus: list[tuple[int, int]] | None = None
) -> str:
    """The Keras dtype policy "auto" stands for: "mixed_bfloat16" where the device that trains
    (the GPUs if TensorFlow sees any, else the CPU) computes bfloat16 natively, else "float32"."""
    gpus = gpu_capabilities() if gpus is None else gpus
    if gpus:
        native = all(capability >= BFLOAT16_GPU_CAPABILITY for capability in gpus)
    else:
        native = cpu_has_bfloat16(flags)
    return "mixed_bfloat16" if native else "float32"


def describe_vector_unit(flags: frozenset[str] | None = None) -> str:
    """The CPU's widest vector instructions and whether it has bfloat16, e.g. "AVX-512, BF16"."""
    flags = cpu_flags() if flags is None else flags
    if "avx512f" in flags:
        width = "AVX-512"
    elif "avx2" in flags:
        width = "AVX2"
    elif "asimd" in flags or "sve" in flags:
        width = "SVE" if "sve" in flags else "NEON"
    else:
        width = "vector unit unknown"
    return width + (", BF16" if cpu_has_bfloat16(flags) else ", no BF16")
