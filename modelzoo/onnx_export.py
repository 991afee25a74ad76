"""The ONNX export format: `model.onnx` for ONNX Runtime, checked in onnxruntime before publishing.

Keras writes it (`model.export(format="onnx")`, tf2onnx under the TensorFlow backend); its graph
input keeps the Keras input's name and its output, which the converter names after a TensorFlow
tensor ("Identity:0"), is renamed to the serving signature's output name, so an ONNX client
sends and reads the same names as a TF Serving client. The check runs the recorded samples in
onnxruntime in a fresh process (`modelzoo.parity`); they must match Keras within 1e-5.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import parity
from modelzoo.quiet import converter_output

if TYPE_CHECKING:
    import keras

    from modelzoo.export_context import ExportContext

FILE = "model.onnx"


def write(model: keras.Sequential, folder: Path, context: ExportContext) -> None:
    """`folder`/model.onnx with the signature's input and output names, and the samples beside it."""
    import onnx

    from modelzoo.runtimes import EXTRA
    from modelzoo.saved_model import signature_keys

    try:
        import tf2onnx  # noqa: F401  (Keras's ONNX export needs it under TensorFlow)
    except ImportError:
        from modelzoo.errors import UsageError

        raise UsageError(
            f'--format onnx needs tf2onnx: pip install "modelzoo[{EXTRA["onnx"][1]}]"'
        ) from None
    input_key, output_key = signature_keys(model)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        converted = Path(scratch) / FILE
        with converter_output(), warnings.catch_warnings():
            # Keras's tf2onnx shim probes np.object, which NumPy 2 warns about
            warnings.filterwarnings("ignore", "In the future `np.object`", FutureWarning)
            model.export(str(converted), format="onnx", verbose=False)
        graph = onnx.load(str(converted))
    rename_output(graph, output_key)
    onnx.save(graph, str(folder / FILE))
    parity.record_samples(folder, model, context.samples)


def rename_output(graph, name: str) -> None:
    """Give the ONNX graph's one output the name `name`, wherever the old name is used."""
    (output,) = graph.graph.output
    old = output.name
    for node in graph.graph.node:
        node.output[:] = [name if o == old else o for o in node.output]
        node.input[:] = [name if i == old else i for i in node.input]
    output.name = name


def check(folder: Path, context: ExportContext | None = None) -> dict[str, Any]:
    """The samples through onnxruntime in a fresh process must match Keras's outputs within 1e-5."""
    result = parity.check("onnx", folder / FILE, folder / parity.SAMPLES_FILE)
    return parity.require_close("onnx", folder / FILE, result)
