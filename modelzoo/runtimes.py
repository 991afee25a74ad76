"""Run an exported model in ONNX Runtime or the LiteRT interpreter, without importing TensorFlow.

Both take and give tensors by the serving signature's names, as TF Serving does:
`open_runtime("onnx", path).run({"image": batch})` is `{"probabilities": array}`. The ONNX file's
graph inputs and outputs and the LiteRT file's `serving_default` signature carry those names
(`modelzoo.onnx_export`, `modelzoo.litert_export`). Used by `modelzoo predict --runtime`, the
parity checks run before publishing (`modelzoo.parity`) and `benchmarks/inference.py`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from modelzoo.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

#: The export format each runtime runs, and the pip extra that installs it.
RUNTIME_OF_FORMAT = {"onnx": "onnx", "litert": "litert", "litert-int8": "litert"}
EXTRA = {"onnx": ("onnxruntime", "onnx"), "litert": ("ai_edge_litert", "litert")}


class Runtime(Protocol):
    """A loaded export: its input and output names and a call from named inputs to named outputs."""

    name: str
    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def version(self) -> str: ...


class OnnxRuntimeModel:
    """An ONNX file in an onnxruntime CPU session."""

    name = "onnx"

    def __init__(self, path: str | os.PathLike, threads: int = 0) -> None:
        ort = _import("onnx")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only: no warnings on stderr for a user's predict
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = [i.name for i in self.session.get_inputs()]
        self.output_names = [o.name for o in self.session.get_outputs()]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(self.output_names, self.session.run(self.output_names, inputs)))

    def version(self) -> str:
        return f"onnxruntime {_import('onnx').__version__}"


class LiteRtModel:
    """A .tflite file in the LiteRT interpreter, called through its `serving_default` signature."""

    name = "litert"

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        interpreter_module = _import("litert")
        self.interpreter = interpreter_module.Interpreter(model_path=str(path), num_threads=threads)
        signatures = self.interpreter.get_signature_list()
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
        self.runner = self.interpreter.get_signature_runner(key)
        self.input_names = list(signatures[key]["inputs"])
        self.output_names = list(signatures[key]["outputs"])

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.runner(**inputs).items()}

    def version(self) -> str:
        from importlib.metadata import version

        return f"ai-edge-litert {version('ai-edge-litert')}"


def open_runtime(format_name: str, path: str | os.PathLike, threads: int = 0) -> Runtime:
    """Load the export file `path` of format `format_name` ("onnx", "litert", "litert-int8")."""
    runtime = RUNTIME_OF_FORMAT.get(format_name)
    if runtime is None:
        raise UsageError(
            f"no TensorFlow-free runtime runs format {format_name!r}; "
            f"choose one of {', '.join(RUNTIME_OF_FORMAT)}"
        )
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such {format_name} export file")
    if runtime == "onnx":
        return OnnxRuntimeModel(path, threads)
    return LiteRtModel(path, threads or None)


def _import(runtime: str):
    """The runtime's module (onnxruntime, or LiteRT's interpreter), or one line saying how to install it."""
    module, extra = EXTRA[runtime]
    try:
        if runtime == "onnx":
            import onnxruntime

            return onnxruntime
        from ai_edge_litert import interpreter

        return interpreter
    except ImportError:
        raise UsageError(
            f'the {runtime} runtime is not installed ({module}): pip install "modelzoo[{extra}]"'
        ) from None
