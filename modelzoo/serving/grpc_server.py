"""TF Serving's gRPC API over the model repository: `modelzoo serve --grpc-port` (8500).

    tensorflow.serving.PredictionService/Predict            inputs as TensorProtos, outputs likewise
    tensorflow.serving.PredictionService/GetModelMetadata   the signature_def map
    tensorflow.serving.ModelService/GetModelStatus          the served version's state

Served from the same `ModelRepository` as the REST routes (same versions, hot swap and leases);
requests are checked as the REST side checks them (`protocol.check_array`) and errors carry the
status codes TF Serving's gRPC server answers (NOT_FOUND, INVALID_ARGUMENT, ...). The protos and
stubs are the official ones of the `tensorflow-serving-api` package, so clients written against
this server work unchanged against TF Serving. Classify, Regress, MultiInference and
HandleReloadConfigRequest are not implemented (UNIMPLEMENTED).

grpc and TensorFlow are imported when a server is made, not when this module is.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from modelzoo.errors import ModelzooError
from modelzoo.serving.protocol import ServingError, Signature, check_array

if TYPE_CHECKING:
    from modelzoo.serving.repository import ModelRepository

DEFAULT_GRPC_PORT = 8500
log = logging.getLogger("modelzoo.serving")


def _model_spec(request) -> tuple[str, int | None]:
    """(name, version or None for the newest) of a request's ModelSpec, as TF Serving reads it."""
    spec = request.model_spec
    if not request.HasField("model_spec") or not spec.name:
        raise ServingError("Missing ModelSpec")
    if spec.WhichOneof("version_choice") == "version_label":
        # modelzoo serve has no version labels (TF Serving's come from its model config file)
        raise ServingError(f"Unrecognized servable version label: {spec.version_label}")
    version = spec.version.value if spec.HasField("version") else None
    return spec.name, version


def _input_size_error(sent: set[str], signature: Signature) -> ServingError:
    """TF Serving's text for inputs that do not match the signature (predict_util.cc)."""
    wanted = set(signature.inputs)
    return ServingError(
        f"input size does not match signature: {len(sent)}!={len(wanted)} "
        f"len({{{','.join(sorted(sent))}}}) != len({{{','.join(sorted(wanted))}}}). "
        f"Sent extra: {{{','.join(sorted(sent - wanted))}}}. "
        f"Missing but required: {{{','.join(sorted(wanted - sent))}}}."
    )


def _servicers(repository: ModelRepository):
    """The PredictionService and ModelService servicers answering from `repository`."""
    import grpc
    import tensorflow as tf
    from tensorflow_serving.apis import (
        get_model_metadata_pb2,
        get_model_status_pb2,
        model_service_pb2_grpc,
        predict_pb2,
        prediction_service_pb2_grpc,
    )

    codes = {code.value[0]: code for code in grpc.StatusCode}

    def answer(context, handler, request):
        try:
            return handler(request)
        except ServingError as error:
            context.abort(codes.get(error.grpc_code, grpc.StatusCode.INTERNAL), str(error))
        except Exception as error:  # noqa: BLE001 -- a bad request never takes the server down
            log.exception("internal error")
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")

    def predict(request):
        name, version = _model_spec(request)
        with repository.lease(name, version) as servable:
            signature = servable.signature(request.model_spec.signature_name)
            if set(request.inputs) != set(signature.inputs):
                raise _input_size_error(set(request.inputs), signature)
            inputs = {}
            for key, spec in signature.inputs.items():
                try:
                    array = tf.make_ndarray(request.inputs[key])
                except Exception as error:  # noqa: BLE001 -- a malformed TensorProto
                    raise ServingError(f"inputs ({key}): not a valid tensor: {error}") from None
                inputs[key] = check_array(array, spec, f"inputs ({key})")
            if len({len(v) for v in inputs.values()}) != 1:
                raise ServingError("inputs have different batch sizes")
            wanted = list(request.output_filter) or list(signature.outputs)
            for key in wanted:
                if key not in signature.outputs:
                    raise ServingError(
                        f"output tensor alias not found in signature: {key} Outputs expected to "
                        f"be in the set {{{','.join(sorted(signature.outputs))}}}."
                    )
            outputs = servable.run(inputs, signature.name)
            response = predict_pb2.PredictResponse()
            response.model_spec.name = name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = signature.name
            for key in wanted:
                response.outputs[key].CopyFrom(tf.make_tensor_proto(outputs[key]))
            return response

    def metadata(request):
        name, version = _model_spec(request)
        fields = list(request.metadata_field)
        if not fields:
            raise ServingError("GetModelMetadataRequest must specify at least one metadata_field")
        unsupported = [f for f in fields if f != "signature_def"]
        if unsupported:
            raise ServingError(f"Metadata field {unsupported[0]} is not supported")
        servable = repository.get(name, version)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.metadata["signature_def"].Pack(servable.signature_def_map)
        return response

    def status(request):
        name, version = _model_spec(request)
        answer = repository.status(name, version)
        response = get_model_status_pb2.GetModelStatusResponse()
        for entry in answer["model_version_status"]:
            status = response.model_version_status.add()
            status.version = int(entry["version"])
            status.state = get_model_status_pb2.ModelVersionStatus.State.Value(entry["state"])
            status.status.error_code = 0
            status.status.error_message = entry["status"]["error_message"]
        return response

    class Prediction(prediction_service_pb2_grpc.PredictionServiceServicer):
        def Predict(self, request, context):  # noqa: N802 -- the proto's method name
            return answer(context, predict, request)

        def GetModelMetadata(self, request, context):  # noqa: N802
            return answer(context, metadata, request)

    class Models(model_service_pb2_grpc.ModelServiceServicer):
        def GetModelStatus(self, request, context):  # noqa: N802
            return answer(context, status, request)

    return Prediction(), Models()


def make_grpc_server(
    repository: ModelRepository,
    host: str,
    port: int,
    workers: int,
    max_request_bytes: int,
    max_pending: int,
):
    """A gRPC server bound to host:port (0: any free port), not started; (server, bound port).

    Messages larger than `max_request_bytes` get RESOURCE_EXHAUSTED; more than `workers +
    max_pending` requests at once get RESOURCE_EXHAUSTED too (REST's 413 and 503).
    """
    import grpc
    from tensorflow_serving.apis import model_service_pb2_grpc, prediction_service_pb2_grpc

    server = grpc.server(
        ThreadPoolExecutor(workers, thread_name_prefix="modelzoo-grpc"),
        options=[
            ("grpc.max_receive_message_length", max_request_bytes),
            ("grpc.max_send_message_length", -1),
            ("grpc.so_reuseport", 0),
        ],
        maximum_concurrent_rpcs=workers + max_pending,
    )
    prediction, models = _servicers(repository)
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(prediction, server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(models, server)
    address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        server.stop(None)
        raise ModelzooError(
            f"cannot listen for gRPC on {address}; choose another --grpc-port (0: any free port) "
            "or --no-grpc"
        )
    return server, bound
