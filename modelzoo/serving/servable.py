"""One SavedModel version loaded the way TF Serving loads it: a TF session by tag `serve`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import storage, tfserving
from modelzoo.serving.protocol import (
    DEFAULT_SIGNATURE,
    HTTP_STATUS,
    ServingError,
    Signature,
    format_predict_response,
    parse_predict_request,
    requested_signature,
)

if TYPE_CHECKING:
    import numpy as np


class Servable:
    """One model version loaded by tag `serve` into its own TF session (thread-safe to run)."""

    def __init__(self, name: str, version: int, path: Path):
        import tensorflow as tf
        from google.protobuf import json_format
        from tensorflow.python.util import deprecation
        from tensorflow_serving.apis import get_model_metadata_pb2

        self.name, self.version, self.path = name, version, path
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        #: Warmup requests replayed on load (assets.extra/tf_serving_warmup_requests), as TF Serving does.
        self.warmup_replayed = 0
        try:
            with deprecation.silence():  # the v1 loader is the one TF Serving's C++ side matches
                meta_graph = tf.compat.v1.saved_model.loader.load(
                    self.session, ["serve"], str(path)
                )
            if (
                DEFAULT_SIGNATURE in meta_graph.signature_def
            ):  # warm up as TF Serving does before serving
                for request in tfserving.read_warmup_requests(path):
                    self._run_proto(meta_graph.signature_def[DEFAULT_SIGNATURE], request)
                    self.warmup_replayed += 1
        except Exception:
            self.session.close()
            raise
        self.signature_defs = {
            k: v for k, v in meta_graph.signature_def.items() if not k.startswith("__")
        }
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, value in meta_graph.signature_def.items():
            signature_map.signature_def[key].CopyFrom(value)
        #: The SignatureDefMap proto that GetModelMetadata answers (gRPC); `metadata` is its JSON.
        self.signature_def_map = signature_map
        self.metadata = {
            "model_spec": {"name": name, "signature_name": "", "version": str(version)},
            "metadata": {
                "signature_def": json_format.MessageToDict(
                    signature_map, preserving_proto_field_name=True
                )
            },
        }
        self.signatures = {
            key: Signature.from_metadata(self.metadata, key) for key in self.signature_defs
        }

    def _run_proto(self, signature_def, inputs: dict) -> None:
        feeds = {signature_def.inputs[k].name: v for k, v in inputs.items()}
        self.session.run({k: v.name for k, v in signature_def.outputs.items()}, feeds)

    def signature(self, name: str | None) -> Signature:
        name = name or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise ServingError(
                f'Serving signature name: "{name}" not found in signature def; the model has {sorted(self.signatures)}'
            )
        return self.signatures[name]

    def run(
        self, inputs: dict[str, np.ndarray], signature_name: str | None = None
    ) -> dict[str, np.ndarray]:
        """Run a signature on a batch: {input key: array} -> {output key: array}."""
        import tensorflow as tf

        signature = self.signature(signature_name)
        definition = self.signature_defs[signature.name]
        feeds = {definition.inputs[key].name: value for key, value in inputs.items()}
        fetches = {key: info.name for key, info in definition.outputs.items()}
        try:
            return self.session.run(fetches, feeds)
        except tf.errors.InvalidArgumentError as error:
            raise ServingError(error.message.splitlines()[0], code=error.error_code) from None
        except (
            tf.errors.OpError
        ) as error:  # the status's HTTP code, as ToHTTPStatusCode in model_servers/http_server.cc
            raise ServingError(
                error.message.strip() or type(error).__name__,
                HTTP_STATUS.get(error.error_code, 500),
                error.error_code,
            ) from None

    def predict_json(self, body: Any) -> dict:
        """Answer a REST predict request body as TF Serving would."""
        name = requested_signature(body)
        signature = self.signature(name)
        inputs, row_format = parse_predict_request(body, signature)
        return format_predict_response(self.run(inputs, signature.name), row_format)

    def close(self) -> None:
        self.session.close()


def load_local(path: str | os.PathLike) -> Servable:
    """Load saved_models/NAME (its newest version) or saved_models/NAME/VERSION for local prediction."""
    try:
        folder = storage.saved_model_folder(path)
    except storage.NoSavedModel:
        raise ServingError(
            f"{path} holds no SavedModel; give saved_models/NAME or saved_models/NAME/VERSION", 404
        ) from None
    version = storage.parse_version(folder.name)
    return Servable(
        folder.parent.name if version is not None else folder.name, version or 0, folder
    )
