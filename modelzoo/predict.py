"""`modelzoo predict`: files in, the model's answer out, from a local export, shipped weights or a model server.

The same steps every way: read the signature (the export's, the model's, or GET .../metadata), turn the files
into the input batch by `modelzoo.inputs`' rules, run, and read the answer by the output's name:
`probabilities` and `scores` give the top classes, `probability` the positive class's
probability, anything else the values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from modelzoo import inputs as model_inputs
from modelzoo.errors import UsageError
from modelzoo.registry import TensorSpec
from modelzoo.serving import DEFAULT_SIGNATURE, Signature

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Prediction:
    """The answer for one example: where it came from, the raw outputs and a readable summary."""

    source: str
    outputs: dict[str, Any]
    summary: str
    top: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "input": self.source,
            "outputs": self.outputs,
            "top": self.top,
            "summary": self.summary,
        }


def prepare(
    signature: Signature, files: list[str], rows_file: str | None
) -> tuple[np.ndarray, list[str]]:
    """The input batch for `files` (images) or `rows_file` (CSV/JSON rows), and a label per example."""
    spec = signature.input
    if files and rows_file:
        raise UsageError("give image files or --input ROWS, not both")
    if rows_file:
        batch = model_inputs.load_rows(rows_file, spec)
        return batch, [f"{rows_file} row {i + 1}" for i in range(len(batch))]
    if not files:
        hint = "image files, e.g. digit.png" if spec.is_image else "--input rows.csv or rows.json"
        raise UsageError(f"nothing to predict: the model takes {spec.example()}; give {hint}")
    return model_inputs.load_images(files, spec), list(files)


def interpret(outputs: dict[str, np.ndarray], sources: list[str], top: int = 3) -> list[Prediction]:
    """A readable Prediction per example, from the output's name and shape."""
    import numpy as np

    predictions = []
    for index, source in enumerate(sources):
        raw = {key: np.asarray(value[index]) for key, value in outputs.items()}
        key, value = next(iter(raw.items()))
        flat = value.reshape(-1)
        ranked: list[dict[str, float]] = []
        if key == "probability" and flat.size == 1:
            p = float(flat[0])
            summary = f"class {int(p >= 0.5)} (probability of class 1: {p:.3f})"
        elif flat.size > 1 and key in ("probabilities", "scores", "logits"):
            order = np.argsort(-flat, kind="stable")[:top]
            ranked = [{"class": int(c), "score": float(flat[c])} for c in order]
            if key == "probabilities":
                summary = ", ".join(f"{r['class']} ({r['score']:.1%})" for r in ranked)
            else:
                summary = ", ".join(f"{r['class']} (score {r['score']:.3f})" for r in ranked)
        else:
            summary = ", ".join(f"{v:.6g}" for v in flat.tolist())
            summary = f"{key} = {summary}"
        predictions.append(
            Prediction(source, {k: v.tolist() for k, v in raw.items()}, summary, ranked)
        )
    return predictions


def predict_local(
    path: str,
    files: list[str],
    rows_file: str | None,
    top: int = 3,
    signature_name: str = DEFAULT_SIGNATURE,
) -> list[Prediction]:
    """Predict with an export on this machine (loaded as TF Serving loads it), no server needed."""
    from modelzoo import serving

    servable = serving.load_local(path)
    try:
        signature = servable.signature(signature_name)
        batch, sources = prepare(signature, files, rows_file)
        outputs = servable.run({signature.input.name: batch}, signature.name)
    finally:
        servable.close()
    return interpret(outputs, sources, top)


def read_signature(path: str, signature_name: str = DEFAULT_SIGNATURE) -> Signature:
    """A local export's signature, read from its saved_model.pb: no session is made and nothing runs."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    from modelzoo import serving, storage
    from modelzoo.errors import ModelzooError

    try:
        folder = storage.saved_model_folder(path)
        graphs = saved_model_pb2.SavedModel.FromString(
            (folder / "saved_model.pb").read_bytes()
        ).meta_graphs
    except (ModelzooError, OSError, DecodeError):
        raise serving.ServingError(
            f"{path} holds no SavedModel; give saved_models/NAME or saved_models/NAME/VERSION", 404
        ) from None
    graph = next((g for g in graphs if list(g.meta_info_def.tags) == ["serve"]), None)
    definitions = (
        {}
        if graph is None
        else {
            key: json_format.MessageToDict(value, preserving_proto_field_name=True)
            for key, value in graph.signature_def.items()
            if not key.startswith("__")
        }
    )
    return Signature.from_metadata(
        {"metadata": {"signature_def": {"signature_def": definitions}}}, signature_name
    )


def weights_signature(model_name: str, tag: str) -> Signature:
    """The serving signature of a zoo model with shipped weights, from the manifest (no TensorFlow)."""
    from modelzoo import weights

    entry = weights.STORE.get(model_name, tag)

    def spec(tensor: dict) -> TensorSpec:
        return TensorSpec.of_example(tensor["name"], tuple(tensor["shape"]), tensor["dtype"])

    return Signature(
        DEFAULT_SIGNATURE,
        {entry.input["name"]: spec(entry.input)},
        {entry.output["name"]: spec(entry.output)},
    )


def request_body(signature: Signature, files: list[str], rows_file: str | None) -> dict:
    """The TF Serving REST predict body for `files` (or `rows_file`), prepared as `modelzoo predict` prepares them."""
    from modelzoo import serving

    batch, _ = prepare(signature, files, rows_file)
    return serving.predict_request({signature.input.name: batch}, signature)


def predict_remote(
    url: str,
    model: str,
    files: list[str],
    rows_file: str | None,
    top: int = 3,
    version: int | None = None,
    signature_name: str = DEFAULT_SIGNATURE,
) -> list[Prediction]:
    """Predict through TF Serving's REST API (or `modelzoo serve`) at `url`."""
    from modelzoo import serving

    client = serving.Client(url, model, version)
    signature = client.signature(signature_name)
    batch, sources = prepare(signature, files, rows_file)
    return interpret(client.predict({signature.input.name: batch}, signature), sources, top)


def predict_grpc(
    target: str,
    model: str,
    files: list[str],
    rows_file: str | None,
    top: int = 3,
    version: int | None = None,
    signature_name: str = DEFAULT_SIGNATURE,
) -> list[Prediction]:
    """Predict through TF Serving's gRPC API (or `modelzoo serve`) at `target` (HOST:PORT)."""
    from modelzoo import serving

    client = serving.GrpcClient(target, model, version)
    try:
        signature = client.signature(signature_name)
        batch, sources = prepare(signature, files, rows_file)
        outputs = client.predict({signature.input.name: batch}, signature)
    finally:
        client.close()
    return interpret(outputs, sources, top)


def parse_weights_name(text: str) -> tuple[str, str] | None:
    """(model, tag) for 'MODEL:TAG' naming a zoo model (an unknown tag is a UsageError), else None."""
    from modelzoo import weights
    from modelzoo.registry import list_models

    model, sep, tag = text.partition(":")
    if not sep or model not in list_models():
        return None
    weights.STORE.get(model, tag)
    return model, tag


def predict_weights(
    model_name: str, tag: str, files: list[str], rows_file: str | None, top: int = 3
) -> list[Prediction]:
    """Predict with a zoo model and its shipped weights, in this process: no export, data or server.

    The files are read against the contract the manifest records before TensorFlow loads.
    """
    from modelzoo.registry import create_model

    signature = weights_signature(model_name, tag)
    batch, sources = prepare(signature, files, rows_file)
    model = create_model(model_name, weights=tag)
    (output,) = signature.outputs
    return interpret({output: model.predict(batch, verbose=0)}, sources, top)
