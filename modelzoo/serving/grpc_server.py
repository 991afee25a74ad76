"""TF Serving's gRPC API over the model repository: `modelzoo serve --grpc-port` (8500).

    tensorflow.serving.PredictionService/Predict            inputs as TensorProtos, outputs likewise
    tensorflow.serving.PredictionService/GetModelMetadata   the signature_def map
    tensorflow.serving.ModelService/GetModelStatus          the served version's state

Served from the same `ModelRepository` as the REST routes (same versions, labels, hot swap and
leases); requests go through the same checks as TF Serving's (predict_util.cc, with its texts, via
`Servable.predict`) and errors carry the status codes TF Serving's gRPC server answers. The protos and
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
from modelzoo.serving.json_tensor import Unparseable
from modelzoo.serving.protocol import ServingError

if TYPE_CHECKING:
    from modelzoo.serving.repository import ModelRepository

DEFAULT_GRPC_PORT = 8500
log = logging.getLogger("modelzoo.serving")


def _model_spec(request) -> tuple[str, int | None, str | None]:
    """(name, version, label) of a request's ModelSpec; "Missing ModelSpec" without one
    (predict_impl.cc, get_model_metadata_impl.cc, get_model_status_impl.cc)."""
    if not request.HasField("model_spec"):
        raise ServingError("Missing ModelSpec")
    spec = request.model_spec
    choice = spec.WhichOneof("version_choice")
    version = spec.version.value if choice == "version" else None
    label = spec.version_label if choice == "version_label" else None
    return spec.name, version, label


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
            message = str(error)  # ToGRPCStatus (model_servers/grpc_status_util.cc) cuts at 1024
            if len(message) > 1024:
                message = message[:1024] + "...TRUNCATED"
            context.abort(codes.get(error.grpc_code, grpc.StatusCode.INTERNAL), message)
        except Exception as error:  # noqa: BLE001 -- a bad request never takes the server down
            log.exception("internal error")
            context.abort(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")

    def predict(request):
        name, version, label = _model_spec(request)
        with repository.lease(name, version, label) as servable:
            inputs = {}
            for key, proto in request.inputs.items():
                try:
                    inputs[key] = tf.make_ndarray(proto)
                except OverflowError:  # deliberate difference: TF Serving keeps the low bits
                    raise ServingError(
                        f"inputs ({key}): values outside the range of "
                        f"{tf.dtypes.as_dtype(proto.dtype).name}; TF Serving would silently "
                        "wrap them, modelzoo serve refuses them"
                    ) from None
                except Exception:  # noqa: BLE001 -- Tensor::FromProto failed
                    inputs[key] = Unparseable([])
            signature_name, outputs = servable.predict(
                inputs, request.model_spec.signature_name, list(request.output_filter)
            )
            response = predict_pb2.PredictResponse()
            response.model_spec.name = name
            response.model_spec.version.value = servable.version
            response.model_spec.signature_name = signature_name
            for key, value in outputs.items():
                response.outputs[key].CopyFrom(tf.make_tensor_proto(value))
            return response

    def metadata(request):
        name, version, label = _model_spec(request)
        fields = list(request.metadata_field)
        if not fields:
            raise ServingError("GetModelMetadataRequest must specify at least one metadata_field")
        unsupported = [f for f in fields if f != "signature_def"]
        if unsupported:
            raise ServingError(f"Metadata field {unsupported[0]} is not supported")
        servable = repository.get(name, version, label)
        response = get_model_metadata_pb2.GetModelMetadataResponse()
        response.model_spec.name = name
        response.model_spec.version.value = servable.version
        response.metadata["signature_def"].Pack(servable.signature_def_map)
        return response

    def status(request):
        name, version, _ = _model_spec(request)  # a version label is not looked at
        response = get_model_status_pb2.GetModelStatusResponse()
        for number, state in repository.status(name, version):
            entry = response.model_version_status.add(version=number)
            entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(state)
            entry.status.SetInParent()
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
