"""`modelzoo predict`: files in, the model's answer out, from a local export, shipped weights or a model server.

The same steps every way: read the signature (the export's, the model's, or GET .../metadata), turn the files
into the input batch by `modelzoo.inputs`' rules, run, and read the answer by the output's name:
`probabilities` and `scores` give the top classes, `probability` the positive class's
probability, anything else the values.

A local export runs in any runtime it was published for (`RUNTIMES`): TensorFlow's session
loader on the SavedModel, as TF Serving runs it, or ONNX Runtime or LiteRT on the files in its
formats folder (`storage.formats_folder`), which never import TensorFlow or Keras: the signature
then comes from the file itself, and nothing on that path imports them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import inputs as model_inputs
from modelzoo.errors import UsageError
from modelzoo.exporters import SAVED_MODEL
from modelzoo.registry import TensorSpec
from modelzoo.runtimes import RUNTIME_OF_FORMAT
from modelzoo.serving import DEFAULT_SIGNATURE, Signature

if TYPE_CHECKING:
    import numpy as np

    from modelzoo.runtimes import Runtime

#: The runtimes a local export runs in, each named as the export format it runs.
RUNTIMES = (SAVED_MODEL, *RUNTIME_OF_FORMAT)
#: The runtime `modelzoo predict` uses for a local export when none is asked for: the first of
#: these the version has (and whose package is installed). LiteRT answers one image from a cold
#: start fastest on this zoo's models, ONNX Runtime next, both without TensorFlow
#: (benchmarks/cli_latency.py measures it). int8 is never chosen unasked: its answers are
#: quantized, not the Keras model's.
DEFAULT_RUNTIMES = ("litert", "onnx", SAVED_MODEL)


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


def choose_runtime(path: str | os.PathLike, runtime: str | None = None) -> tuple[Path, str]:
    """(the version folder `path` names, the runtime to run it in): `runtime`, which the version
    must have, or by default the first of DEFAULT_RUNTIMES it has. No runtime is imported."""
    from modelzoo import exporters, runtimes, storage

    version = storage.saved_model_folder(path)
    present = exporters.formats_present(version)
    if runtime is None:
        return version, next(
            r
            for r in DEFAULT_RUNTIMES
            if r in present and (r == SAVED_MODEL or runtimes.installed(r))
        )
    if runtime not in RUNTIMES:
        raise UsageError(f"--runtime: no runtime {runtime!r}; choose from {', '.join(RUNTIMES)}")
    if runtime not in present:
        raise UsageError(
            f"{version} has no {runtime} export, only {', '.join(present)}; publish the model with "
            f"--format {runtime} (on the recipe, or with modelzoo export) or choose --runtime "
            f"{' or '.join(r for r in present if r in RUNTIMES)}"
        )
    return version, runtime


def open_export(version: Path, runtime: str) -> Runtime:
    """The version's `runtime` export file, loaded in its runtime (not the SavedModel)."""
    from modelzoo import exporters, runtimes, storage

    file = exporters.EXPORTERS[runtime].file
    return runtimes.open_runtime(runtime, storage.formats_folder(version) / file)


def runtime_signature(
    model: Runtime, runtime: str, signature_name: str = DEFAULT_SIGNATURE
) -> Signature:
    """The serving signature an ONNX or LiteRT export declares: its tensors' names, shapes, dtypes."""
    if signature_name != DEFAULT_SIGNATURE:
        raise UsageError(
            f"the {runtime} export has only the {DEFAULT_SIGNATURE} signature; run --signature "
            f"{signature_name} with --runtime savedmodel"
        )
    inputs, outputs = model.tensors()

    def specs(tensors: dict) -> dict[str, TensorSpec]:
        return {name: TensorSpec(name, shape, dtype) for name, (shape, dtype) in tensors.items()}

    return Signature(DEFAULT_SIGNATURE, specs(inputs), specs(outputs))


def predict_runtime(
    version: Path,
    runtime: str,
    files: list[str],
    rows_file: str | None,
    top: int = 3,
    signature_name: str = DEFAULT_SIGNATURE,
) -> list[Prediction]:
    """Predict with a version's ONNX or LiteRT export, in this process, without TensorFlow."""
    model = open_export(version, runtime)
    signature = runtime_signature(model, runtime, signature_name)
    batch, sources = prepare(signature, files, rows_file)
    return interpret(model.run({signature.input.name: batch}), sources, top)


def predict_export(
    path: str,
    files: list[str],
    rows_file: str | None,
    top: int = 3,
    signature_name: str = DEFAULT_SIGNATURE,
    runtime: str | None = None,
) -> list[Prediction]:
    """Predict with a local export in `runtime` (default: the fastest it has, `choose_runtime`)."""
    if runtime is None and signature_name != DEFAULT_SIGNATURE:
        runtime = SAVED_MODEL  # the other formats hold serving_default only
    version, chosen = choose_runtime(path, runtime)
    if chosen == SAVED_MODEL:
        return predict_local(str(version), files, rows_file, top, signature_name)
    return predict_runtime(version, chosen, files, rows_file, top, signature_name)


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
