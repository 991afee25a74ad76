"""The TF Serving SavedModel export format: what `publish` writes into a version folder, and its check.

    <version>/saved_model.pb, variables/, ...       Keras 3's ExportArchive (never
                                                     `tf.saved_model.save`, whose Keras 3 output
                                                     TF Serving's C++ loader rejects)
    <version>/assets.extra/verification.npz         sample inputs and Keras's outputs for them
    <version>/assets.extra/tf_serving_warmup_requests   the samples as TF Serving warmup requests

The check is the servability check (`modelzoo.verify`): loaded as TF Serving loads it, in a
fresh process, it must answer the samples as Keras did. Registered as the exporter
"saved_model" in `modelzoo.exporters`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

    from modelzoo.export_context import ExportContext


def signature_keys(model: keras.Sequential) -> tuple[str, str]:
    """The serving signature's (input key, output key): the input layer's and the last layer's names."""
    return model.inputs[0].name, model.layers[-1].name


def write_saved_model(model: keras.Sequential, path: str | os.PathLike) -> None:
    """Write `model` as a SavedModel whose `serving_default` maps {input name} to {output name}."""
    import keras
    import tensorflow as tf

    input_key, output_key = signature_keys(model)
    spec = model.inputs[0]
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(
        name="serving_default",
        fn=lambda inputs: {output_key: model(inputs, training=False)},
        input_signature=[tf.TensorSpec(spec.shape, spec.dtype, name=input_key)],
    )
    archive.write_out(str(path), verbose=False)


def write(model: keras.Sequential, folder: Path, context: ExportContext) -> None:
    """The SavedModel, the samples with Keras's outputs for them, and the samples as warmup requests."""
    import numpy as np

    from modelzoo import tfserving, verify

    write_saved_model(model, folder)
    input_key, output_key = signature_keys(model)
    # In the input's dtype, as the signature takes them (TF Serving refuses other warmup dtypes).
    samples = np.asarray(context.samples, dtype=model.inputs[0].dtype)
    verify.write_samples(folder, samples, {output_key: model(samples, training=False).numpy()})
    tfserving.write_warmup_requests(folder, context.name, input_key, samples)


def check(folder: Path, context: ExportContext | None = None) -> dict:
    """Raise VerifyError unless TF Serving would load the folder and answer the samples as Keras did."""
    from modelzoo import verify

    verify.require_servable(folder, require_version_name=False)
    files = [folder / "saved_model.pb", *(folder / "variables").glob("*")]
    return {
        "bytes": sum(f.stat().st_size for f in files if f.is_file()),
        "runtime": "TF Serving (checked with its SavedModel session loader)",
    }
