"""One SavedModel version loaded the way TF Serving loads it: a TF session by tag `serve`."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import storage, tfserving
from modelzoo.serving.json_tensor import Unparseable, fill_predict_request
from modelzoo.serving.json_writer import tensors_json
from modelzoo.serving.protocol import DEFAULT_SIGNATURE, HTTP_STATUS, ServingError, Signature

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
            # Warm up as TF Serving does before serving: each request through the signature it
            # names; one it cannot run (a missing signature, wrong inputs) fails the load.
            for request in tfserving.read_warmup_requests(path):
                if request.signature not in meta_graph.signature_def:
                    raise ServingError(tfserving.missing_signature(request.signature))
                self._run_proto(meta_graph.signature_def[request.signature], request.inputs)
                self.warmup_replayed += 1
        except Exception:
            self.session.close()
            raise
        #: Every SignatureDef of the MetaGraph, "__saved_model_init_op" too, as TF Serving sees them.
        self.all_signature_defs = dict(meta_graph.signature_def.items())
        self.signature_defs = {
            k: v for k, v in meta_graph.signature_def.items() if not k.startswith("__")
        }
        self._callables: dict[tuple, Any] = {}
        self._callables_lock = threading.Lock()
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

    def metadata_json(self) -> str:
        """The REST metadata answer as TF Serving prints it (ToJsonString in
        tensorflow_serving/model_servers/http_rest_api_util.cc): the protos with every field,
        defaults included (`unknown_rank`, `defaults`, a dim's `name`)."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import model_pb2

        spec = model_pb2.ModelSpec(name=self.name)
        spec.version.value = self.version

        def text(message) -> str:
            return json_format.MessageToJson(
                message,
                indent=1,
                always_print_fields_with_no_presence=True,
                preserving_proto_field_name=True,
            )

        return (
            f'{{\n"model_spec":{text(spec)},\n"metadata": {{"signature_def": '
            f"{text(self.signature_def_map)}}}\n}}\n"
        )

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

    def input_types(self, signature_name: str) -> dict[str, str]:
        """{input key: DataType name} of a signature, or the REST 400 (GetInfoMap in
        tensorflow_serving/model_servers/http_rest_api_handler.cc)."""
        from tensorflow.core.framework import types_pb2

        name = signature_name or DEFAULT_SIGNATURE
        if name not in self.all_signature_defs:
            raise ServingError(f'Serving signature name: "{name}" not found in signature def')
        inputs = self.all_signature_defs[name].inputs
        return {key: types_pb2.DataType.Name(info.dtype) for key, info in inputs.items()}

    def predict(
        self, inputs: dict[str, Any], signature_name: str = "", output_filter: Sequence[str] = ()
    ) -> tuple[str, dict[str, np.ndarray]]:
        """(signature name, {output key: array}): RunPredict of
        tensorflow_serving/servables/tensorflow/predict_util.cc, its checks and texts, then the
        session run as TF Serving's C++ runs it (no Python-side shape check)."""
        import tensorflow as tf

        name = signature_name or DEFAULT_SIGNATURE
        if name not in self.all_signature_defs:
            raise ServingError(f'Serving signature key "{name}" not found.', 400, 9)
        signature = self.all_signature_defs[name]
        check_inputs(signature, inputs)
        inputs = {
            **{k: tf.make_ndarray(v) for k, v in signature.defaults.items() if k not in inputs},
            **inputs,
        }
        aliases = list(output_filter)
        for alias in aliases:
            if alias not in signature.outputs:
                raise ServingError(
                    f"output tensor alias not found in signature: {alias} Outputs expected to be "
                    f"in the set {{{','.join(sorted(signature.outputs))}}}."
                )
            if aliases.count(alias) > 1:
                raise ServingError(f"duplicate output tensor alias: {alias}")
        aliases = aliases or sorted(signature.outputs)
        for key, info in signature.inputs.items():
            check_shape(key, inputs[key], info.tensor_shape)
        keys = sorted(signature.inputs)
        run = self._callable(name, tuple(keys), tuple(aliases))
        try:
            values = run(*(inputs[key] for key in keys))
        except tf.errors.OpError as error:  # HTTP code as ToHTTPStatusCode (http_server.cc)
            raise ServingError(
                error.message, HTTP_STATUS.get(error.error_code, 500), error.error_code
            ) from None
        return name, dict(zip(aliases, values))

    def _callable(self, signature_name: str, keys: tuple, aliases: tuple):
        """A C++ Session callable (MakeCallable): feeds reach the graph unchecked by Python, so
        a wrong shape or dtype fails in TensorFlow with the error TF Serving's session gives."""
        from tensorflow.core.protobuf import config_pb2

        with self._callables_lock:
            if (signature_name, keys, aliases) not in self._callables:
                signature = self.all_signature_defs[signature_name]
                options = config_pb2.CallableOptions(
                    feed=[signature.inputs[key].name for key in keys],
                    fetch=[signature.outputs[alias].name for alias in aliases],
                )
                self._callables[signature_name, keys, aliases] = (
                    self.session._make_callable_from_options(options)  # noqa: SLF001
                )
            return self._callables[signature_name, keys, aliases]

    def predict_json(self, body: dict) -> str:
        """A parsed REST predict body answered as TF Serving answers it (JSON text)."""
        name, inputs, row_format = fill_predict_request(body, self.input_types)
        return tensors_json(self.predict(inputs, name)[1], row_format)

    def close(self) -> None:
        self.session.close()


def check_inputs(signature, inputs: dict[str, Any]) -> None:
    """VerifyRequestInputsSize (predict_util.cc) and GetInputValues (tensorflow/cc/saved_model/util.cc):
    the request's input keys against the signature's, with TF Serving's texts."""
    sent, wanted = set(inputs), set(signature.inputs)
    if len(sent) > len(wanted) or (len(sent) < len(wanted) and not signature.defaults):
        raise ServingError(
            f"input size does not match signature: {len(sent)}!={len(wanted)} "
            f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(wanted))}}}). "
            f"Sent extra: {{{','.join(sorted(sent - wanted))}}}. "
            f"Missing but required: {{{','.join(sorted(wanted - sent))}}}."
        )
    for alias in sorted(wanted):
        if alias not in inputs and alias not in signature.defaults:
            raise ServingError(
                f"Signature input alias: {alias}(feed name: {signature.inputs[alias].name}) not "
                "found in request and no default value provided. Inputs expected to be in the "
                f"request {{{','.join(sorted(sent))}}}, or default input alias set: "
                f"{','.join(sorted(signature.defaults))}"
            )
        if isinstance(inputs[alias], Unparseable):
            raise ServingError(f"tensor parsing error: {alias}")
    if sent - wanted:
        raise ServingError(
            f"Inputs contains invalid name. Used request inputs: {','.join(sorted(sent & wanted))}"
            f", request input: {','.join(sorted(sent))}"
        )


def check_shape(key: str, array: np.ndarray, shape) -> None:
    """Refuse an input whose shape the signature rules out (a TensorShapeProto).

    Deliberate difference: TF Serving hands any shape to the session, and the answer is the
    model's own error -- or, for some kernels (a convolution fed rank 3), a CHECK failure that
    aborts the server. The stand-in refuses such a tensor with a 400 first.
    """
    if shape.unknown_rank:
        return
    dims = [d.size for d in shape.dim]
    if len(dims) != array.ndim or any(d >= 0 and d != n for d, n in zip(dims, array.shape)):
        raise ServingError(
            f"input {key}: shape [{','.join(map(str, array.shape))}] where the signature takes "
            f"[{','.join(map(str, dims))}] (-1: any); TF Serving would run the model on it, "
            "modelzoo serve refuses it"
        )


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
