"""The LiteRT export formats: `model.tflite` (float32) and `model.int8.tflite` (int8-quantized).

Both are converted from the staged SavedModel itself (`tf.lite.TFLiteConverter.from_saved_model`),
so their `serving_default` signature has TF Serving's input and output names. The int8 model is
post-training quantized: weights and activations in int8, their ranges calibrated on training
examples (never test ones), with the float input and output of the SavedModel kept.

Checks, in a fresh process with the LiteRT interpreter (`modelzoo.parity`): the float32 model
must answer the recorded samples as Keras did within 1e-5; the int8 model is judged by what
quantization may change, its accuracy over the whole test split, which must be within 0.5
percentage points of the Keras model's on the same examples (or one example, on a test split too
small to resolve 0.5 pp).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import parity
from modelzoo.errors import UsageError
from modelzoo.quiet import converter_output

if TYPE_CHECKING:
    import keras

    from modelzoo.export_context import ExportContext

FILE = "model.tflite"
INT8_FILE = "model.int8.tflite"
#: How far below the float model's test accuracy the int8 model may be: 0.5 percentage points,
#: or one test example where the split is too small to resolve 0.5 pp (under 200 examples).
INT8_ACCURACY_DROP = 0.005
#: The models an int8 export can be judged for: by accuracy, so classifiers.
INT8_TASKS = ("binary classification", "multiclass classification")


def write_float(model: keras.Sequential, folder: Path, context: ExportContext) -> None:
    """`folder`/model.tflite, converted from the staged SavedModel, and the samples beside it."""
    (folder / FILE).write_bytes(_convert(context))
    parity.record_samples(folder, model, context.samples)


def write_int8(model: keras.Sequential, folder: Path, context: ExportContext) -> None:
    """`folder`/model.int8.tflite, calibrated on `context.calibration`; the Keras test accuracy
    it will be held to goes into `context.measured`."""
    import numpy as np

    activation = getattr(getattr(model.layers[-1], "activation", None), "__name__", "")
    if model.outputs[0].shape[-1] == 1 and activation != "sigmoid":
        raise UsageError(
            "--format litert-int8 is judged by test accuracy, and this model is not a classifier "
            "(one output, not a sigmoid probability); export it as litert instead"
        )
    calibration = np.asarray(context.calibration)

    def representative():
        for example in calibration:
            yield [example[None]]

    (folder / INT8_FILE).write_bytes(_convert(context, representative))
    parity.record_samples(folder, model, context.samples)
    inputs, labels = context.evaluation
    scores = model.predict(inputs, batch_size=parity.BATCH, verbose=0)
    context.measured["float_accuracy"] = parity.accuracy(scores, labels)
    context.measured["calibration_examples"] = int(len(calibration))


def _convert(context: ExportContext, representative=None) -> bytes:
    """The SavedModel as LiteRT flatbuffer bytes; int8 when a representative dataset is given."""
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_saved_model(str(context.saved_model))
    if representative is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    with converter_output():
        return converter.convert()


def check_float(folder: Path, context: ExportContext | None = None) -> dict[str, Any]:
    """The samples through the LiteRT interpreter in a fresh process must match Keras's within 1e-5."""
    result = parity.check("litert", folder / FILE, folder / parity.SAMPLES_FILE)
    return parity.require_close("litert", folder / FILE, result)


def check_int8(folder: Path, context: ExportContext | None) -> dict[str, Any]:
    """The int8 model's accuracy over the test split, in a fresh process, within 0.5 pp of Keras's.

    Without the test split (`context` None: a kept candidate checked again before it is
    published) it must still load and run the samples; its accuracy was measured when it was made.
    """
    import numpy as np

    from modelzoo.parity import ParityError

    if context is None or context.evaluation is None:
        return parity.check("litert-int8", folder / INT8_FILE, folder / parity.SAMPLES_FILE)
    inputs, labels = context.evaluation
    with tempfile.TemporaryDirectory() as scratch:
        evaluation = Path(scratch) / "evaluation.npz"
        np.savez(evaluation, inputs=inputs, labels=labels)
        result = parity.check(
            "litert-int8", folder / INT8_FILE, folder / parity.SAMPLES_FILE, evaluation
        )
    float_accuracy = context.measured["float_accuracy"]
    drop = float_accuracy - result["accuracy"]
    examples = result["examples"]
    allowed = max(INT8_ACCURACY_DROP, 1 / examples)
    if drop > allowed + 1e-9:
        raise ParityError(
            f"litert-int8 export ({INT8_FILE}): test accuracy {result['accuracy']:.2%} is "
            f"{drop * 100:.2f} pp below the float model's {float_accuracy:.2%} on {examples} test "
            f"examples (at most {allowed * 100:.2f} pp allowed); not published"
        )
    return {
        **result,
        "float_accuracy": float_accuracy,
        "accuracy_drop_allowed": allowed,
        "calibration_examples": context.measured["calibration_examples"],
    }
