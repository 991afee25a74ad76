"""The ONNX export format: `model.onnx` for ONNX Runtime, checked in onnxruntime before publishing.

Converted by tf2onnx from the staged SavedModel's `serving_default` signature (its own
`--saved-model` path: variables frozen into constants), so the graph's input and output carry the
signature's names and an ONNX client sends and reads what a TF Serving client does. Not Keras's
`model.export(format="onnx")`: it leaves a Normalization layer's adapted mean and variance as two
extra graph inputs, which the parity check caught on the diabetes model. The check runs the
recorded samples in onnxruntime in a fresh process (`modelzoo.parity`); they must match Keras
within 1e-5.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import parity
from modelzoo.errors import UsageError
from modelzoo.quiet import converter_output

if TYPE_CHECKING:
    import keras

    from modelzoo.export_context import ExportContext

FILE = "model.onnx"


def write(model: keras.Sequential, folder: Path, context: ExportContext) -> None:
    """`folder`/model.onnx, converted from the staged SavedModel, and the samples beside it."""
    try:
        import tf2onnx
        from tf2onnx import tf_loader
    except ImportError:
        raise UsageError('--format onnx needs tf2onnx: pip install "modelzoo[onnx]"') from None
    with converter_output():
        graph, inputs, outputs, names = tf_loader.from_saved_model(
            str(context.saved_model),
            None,
            None,
            tag="serve",
            signatures=["serving_default"],
            return_tensors_to_rename=True,
        )
        tf2onnx.convert.from_graph_def(
            graph,
            input_names=inputs,
            output_names=outputs,
            tensors_to_rename=names,
            output_path=str(folder / FILE),
        )
    parity.record_samples(folder, model, context.samples)


def check(folder: Path, context: ExportContext | None = None) -> dict[str, Any]:
    """The samples through onnxruntime in a fresh process must match Keras's outputs within 1e-5."""
    result = parity.check("onnx", folder / FILE, folder / parity.SAMPLES_FILE)
    return parity.require_close("onnx", folder / FILE, result)
