"""Run an exported model in ONNX Runtime or the LiteRT interpreter, without importing TensorFlow.

Both take and give tensors by the serving signature's names, as TF Serving does:
`open_runtime("onnx", path).run({"image": batch})` is `{"probabilities": array}`. The ONNX file's
graph inputs and outputs and the LiteRT file's `serving_default` signature carry those names
(`modelzoo.onnx_export`, `modelzoo.litert_export`). Used by `modelzoo predict --runtime`, the
parity checks run before publishing (`modelzoo.parity`) and `benchmarks/inference.py`.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from modelzoo.errors import ModelzooError, UsageError
from modelzoo.quiet import stderr_without

if TYPE_CHECKING:
    import numpy as np

#: The export format each runtime runs, and the pip extra that installs it.
RUNTIME_OF_FORMAT = {"onnx": "onnx", "litert": "litert", "litert-int8": "litert"}
EXTRA = {"onnx": ("onnxruntime", "onnx"), "litert": ("ai_edge_litert", "litert")}
#: ONNX's tensor element types as NumPy dtype names.
ONNX_DTYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
}

#: A tensor as a runtime declares it: (shape, batch dimension first, None where any size goes; dtype).
Declared = tuple[tuple[int | None, ...], str]


class RuntimeLoadError(ModelzooError):
    """An export file its runtime cannot load (damaged, or from an incompatible converter)."""


class Runtime(Protocol):
    """A loaded export: its input and output names and a call from named inputs to named outputs."""

    name: str
    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...

    def version(self) -> str: ...

    def tensors(self) -> tuple[dict[str, Declared], dict[str, Declared]]: ...


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

    def tensors(self) -> tuple[dict[str, Declared], dict[str, Declared]]:
        """({input name: (shape, dtype)}, {output name: (shape, dtype)}) as the graph declares them."""

        def declared(values) -> dict[str, Declared]:
            return {
                v.name: (
                    tuple(d if isinstance(d, int) and d >= 0 else None for d in v.shape),
                    ONNX_DTYPES.get(v.type, v.type),
                )
                for v in values
            }

        return declared(self.session.get_inputs()), declared(self.session.get_outputs())


class LiteRtModel:
    """A .tflite file in the LiteRT interpreter, called through its `serving_default` signature."""

    name = "litert"

    def __init__(self, path: str | os.PathLike, threads: int | None = None) -> None:
        interpreter_module = _import("litert")
        self.interpreter = interpreter_module.Interpreter(model_path=str(path), num_threads=threads)
        # LiteRT's C++ says "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." on fd 2
        with stderr_without(lambda line: line.startswith(b"INFO: ")):
            self.interpreter.allocate_tensors()  # applies the delegate now, not at the first run
        signatures = self.interpreter.get_signature_list()
        key = "serving_default" if "serving_default" in signatures else next(iter(signatures))
        self.runner = self.interpreter.get_signature_runner(key)
        self.signature_key = key
        self.input_names = list(signatures[key]["inputs"])
        self.output_names = list(signatures[key]["outputs"])

    def run(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.runner(**inputs).items()}

    def version(self) -> str:
        from importlib.metadata import version

        return f"ai-edge-litert {version('ai-edge-litert')}"

    def tensors(self) -> tuple[dict[str, Declared], dict[str, Declared]]:
        """({input name: (shape, dtype)}, {output name: (shape, dtype)}) of the signature."""
        import numpy as np

        def declared(details: dict) -> dict[str, Declared]:
            return {
                name: (
                    tuple(None if d < 0 else int(d) for d in detail["shape_signature"]),
                    np.dtype(detail["dtype"]).name,
                )
                for name, detail in details.items()
            }

        return (
            declared(self.runner.get_input_details()),
            declared(self.runner.get_output_details()),
        )


def open_runtime(format_name: str, path: str | os.PathLike, threads: int = 0) -> Runtime:
    """Load the export file `path` of format `format_name` ("onnx", "litert", "litert-int8").

    `threads` 0 means every core, as TensorFlow and ONNX Runtime take by default (LiteRT's own
    default is one thread: mnist_cnn at batch 256 ran at less than half the speed).
    """
    runtime = RUNTIME_OF_FORMAT.get(format_name)
    if runtime is None:
        raise UsageError(
            f"no TensorFlow-free runtime runs format {format_name!r}; "
            f"choose one of {', '.join(RUNTIME_OF_FORMAT)}"
        )
    if not Path(path).is_file():
        raise UsageError(f"{path}: no such {format_name} export file")
    _import(runtime)  # not installed: one line saying how to install it
    try:
        if runtime == "onnx":
            return OnnxRuntimeModel(path, threads)
        return LiteRtModel(path, threads or os.cpu_count())
    except Exception as error:  # the runtime's own error for a file it cannot load
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise RuntimeLoadError(
            f"{path}: the {format_name} runtime cannot load it ({first_line}); export the "
            f"model again with --format {format_name}"
        ) from None


def installed(format_name: str) -> bool:
    """Whether the runtime package for `format_name` is installed (nothing is imported)."""
    runtime = RUNTIME_OF_FORMAT.get(format_name)
    return runtime is not None and importlib.util.find_spec(EXTRA[runtime][0]) is not None


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
