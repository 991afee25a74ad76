"""The client side of TF Serving's gRPC API (the official stubs), used by `modelzoo predict --grpc`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelzoo.errors import ModelzooError
from modelzoo.serving.protocol import DEFAULT_SIGNATURE, ServingError, Signature

if TYPE_CHECKING:
    import numpy as np

#: gRPC status codes as the HTTP status the REST side would answer (ToHTTPStatusCode).
_HTTP = {3: 400, 4: 504, 5: 404, 8: 429, 9: 400, 12: 501, 14: 503}


class GrpcClient:
    """Talks to TF Serving's gRPC API (or `modelzoo serve`) at HOST:PORT for one model."""

    def __init__(self, target: str, model: str, version: int | None = None, timeout: float = 30.0):
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self.target, self.model, self.version, self.timeout = target, model, version, timeout
        self.channel = grpc.insecure_channel(
            target, options=[("grpc.max_receive_message_length", -1)]
        )
        self.stub = prediction_service_pb2_grpc.PredictionServiceStub(self.channel)

    def _spec(self, request, signature_name: str = "") -> None:
        request.model_spec.name = self.model
        if self.version is not None:
            request.model_spec.version.value = self.version
        request.model_spec.signature_name = signature_name

    def _call(self, method, request):
        import grpc

        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.UNAVAILABLE and "connect" in (error.details() or "").lower():
                raise ModelzooError(
                    f"cannot reach a gRPC model server at {self.target}; "
                    "start TF Serving or `modelzoo serve saved_models/`"
                ) from None
            raise ServingError(
                f"{self.target} {self.model}: gRPC {code.name}: {error.details()}",
                _HTTP.get(code.value[0], 500),
                code.value[0],
            ) from None

    def metadata(self) -> dict:
        """GetModelMetadata's signature_def map, in the JSON form of REST's GET .../metadata."""
        from google.protobuf import json_format
        from tensorflow_serving.apis import get_model_metadata_pb2

        request = get_model_metadata_pb2.GetModelMetadataRequest()
        self._spec(request)
        request.metadata_field.append("signature_def")
        response = self._call(self.stub.GetModelMetadata, request)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        response.metadata["signature_def"].Unpack(signatures)
        return {
            "model_spec": {
                "name": response.model_spec.name,
                "signature_name": "",
                "version": str(response.model_spec.version.value),
            },
            "metadata": {
                "signature_def": json_format.MessageToDict(
                    signatures,
                    preserving_proto_field_name=True,
                    always_print_fields_with_no_presence=True,  # as TF Serving's REST answer
                )
            },
        }

    def signature(self, name: str = DEFAULT_SIGNATURE) -> Signature:
        return Signature.from_metadata(self.metadata(), name)

    def predict(self, inputs: dict[str, np.ndarray], signature: Signature) -> dict[str, np.ndarray]:
        """Send a batch as TensorProtos; return {output key: array}."""
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        self._spec(request, signature.name)
        for key, value in inputs.items():
            request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
        response = self._call(self.stub.Predict, request)
        return {key: tf.make_ndarray(response.outputs[key]) for key in signature.outputs}

    def close(self) -> None:
        self.channel.close()
