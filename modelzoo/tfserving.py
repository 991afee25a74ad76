"""TensorFlow Serving artifacts, built with its own protos (tensorflow-serving-api).

- Warmup records: `assets.extra/tf_serving_warmup_requests`, a TFRecord file of `PredictionLog`
  messages that TF Serving replays when it loads a version, so the first real request does not
  pay for graph initialization.
- `models.config`: a `ModelServerConfig` text proto listing every exported model and its
  version labels, for `tensorflow_model_server --model_config_file=...` (and `modelzoo serve
  --model-config-file`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, NamedTuple

from modelzoo import storage
from modelzoo.errors import ModelzooError
from modelzoo.serving.protocol import DEFAULT_SIGNATURE

WARMUP_FILE = "tf_serving_warmup_requests"


def write_warmup_requests(
    export: Path, model_name: str, input_key: str, inputs, signature: str = DEFAULT_SIGNATURE
) -> Path:
    """One PredictRequest per example (batch of 1) for `signature`, as TF Serving expects."""
    import tensorflow as tf
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2

    path = export / "assets.extra" / WARMUP_FILE
    path.parent.mkdir(exist_ok=True)
    with tf.io.TFRecordWriter(str(path)) as writer:
        for example in range(len(inputs)):
            request = predict_pb2.PredictRequest(
                model_spec=model_pb2.ModelSpec(name=model_name, signature_name=signature)
            )
            request.inputs[input_key].CopyFrom(tf.make_tensor_proto(inputs[example : example + 1]))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())
    return path


class WarmupRequest(NamedTuple):
    """One PredictRequest of the warmup file: the signature it names and its inputs."""

    signature: str
    inputs: dict[str, Any]


def read_warmup_requests(export: Path) -> list[WarmupRequest]:
    """Every warmup request: its signature (an empty name means serving_default, as in TF
    Serving's Predict) and its inputs as {input key: NumPy array}."""
    import tensorflow as tf
    from tensorflow_serving.apis import prediction_log_pb2

    path = export / "assets.extra" / WARMUP_FILE
    if not path.is_file():
        return []
    requests = []
    for record in tf.data.TFRecordDataset(str(path)).as_numpy_iterator():
        request = prediction_log_pb2.PredictionLog.FromString(record).predict_log.request
        requests.append(
            WarmupRequest(
                request.model_spec.signature_name or DEFAULT_SIGNATURE,
                {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()},
            )
        )
    return requests


def missing_signature(name: str) -> str:
    """TF Serving's answer to a request naming a signature the SavedModel lacks."""
    return f'Serving signature key "{name}" not found.'


def servable_models(export_dir: str | os.PathLike) -> dict[str, Path]:
    """{model name: absolute folder} for every folder holding at least one integer version with a SavedModel."""
    root = Path(export_dir).resolve()
    if not root.is_dir():
        raise ModelzooError(f"{root} is not a folder; give the export folder, e.g. saved_models/")
    return {
        folder.name: folder
        for folder in sorted(root.iterdir())
        if folder.is_dir()
        and any(map(storage.has_saved_model, storage.version_folders(folder).values()))
    }


def parse_label(text: str) -> tuple[str | None, str, int]:
    """(model or None, label, version) from `[MODEL:]LABEL=VERSION` (serving-config --label)."""
    match = re.fullmatch(r"(?:([^:=]+):)?([^:=]+)=(\d+)", text.strip())
    if not match:
        raise ModelzooError(f"--label {text!r}: write LABEL=VERSION or MODEL:LABEL=VERSION")
    model, label, version = match.groups()
    return model, label, int(version)


def model_server_config(
    export_dir: str | os.PathLike,
    keep_versions: int = 1,
    serving_root: str | None = None,
    labels: list[str] = (),
) -> str:
    """A ModelServerConfig text proto serving the newest `keep_versions` versions of every model.

    base_path is each model's absolute folder, or `serving_root/NAME` where the server sees the
    export folder elsewhere (e.g. /models inside a container). `labels` (`[MODEL:]LABEL=VERSION`)
    become version_labels; each must name a version the config serves, else TF Serving refuses
    the file ("Request to assign label to version ... not currently available").
    """
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    models = servable_models(export_dir)
    if not models:
        raise ModelzooError(
            f"{Path(export_dir).resolve()} holds no exported model; train one with python -m modelzoo.recipes NAME"
        )
    config = model_server_config_pb2.ModelServerConfig()
    for name, folder in models.items():
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = f"{serving_root.rstrip('/')}/{name}" if serving_root else str(folder)
        entry.model_platform = "tensorflow"
        entry.model_version_policy.latest.num_versions = keep_versions
    entries = {entry.name: entry for entry in config.model_config_list.config}
    for text in labels:
        model, label, version = parse_label(text)
        if model is None and len(models) > 1:
            raise ModelzooError(
                f"--label {text!r}: {len(models)} models ({', '.join(models)}); write "
                f"MODEL:{label}={version}"
            )
        model = model or next(iter(models))
        if model not in models:
            raise ModelzooError(f"--label {text!r}: no model {model!r} (have {', '.join(models)})")
        served = sorted(storage.version_folders(models[model]), reverse=True)[:keep_versions]
        if version not in served:
            raise ModelzooError(
                f"--label {text!r}: version {version} of {model} is not served by this config "
                f"(it serves {', '.join(map(str, served))}; raise --keep-versions)"
            )
        entries[model].version_labels[label] = version
    return text_format.MessageToString(config)
