"""What the REST server, the gRPC server and the client share: ServingError and its status codes,
Signature (read from TF Serving's metadata JSON), and NumPy values as JSON.

The REST JSON format itself follows tensorflow_serving/util/json_tensor.cc in `json_parse`,
`json_tensor` and `json_writer`. No TensorFlow.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from modelzoo.errors import ModelzooError
from modelzoo.registry import TensorSpec

DEFAULT_SIGNATURE = "serving_default"

#: TF's DataType names (as TF Serving's JSON metadata spells them) and their NumPy dtypes.
DTYPES = {
    "DT_FLOAT": "float32",
    "DT_DOUBLE": "float64",
    "DT_HALF": "float16",
    "DT_INT8": "int8",
    "DT_INT16": "int16",
    "DT_INT32": "int32",
    "DT_INT64": "int64",
    "DT_UINT8": "uint8",
    "DT_UINT16": "uint16",
    "DT_UINT32": "uint32",
    "DT_UINT64": "uint64",
    "DT_BOOL": "bool",
    "DT_STRING": "object",
}


#: TF status codes (tensorflow/core/protobuf/error_codes.proto) as TF Serving answers them over
#: HTTP (ToHTTPStatusCode in tensorflow_serving/model_servers/http_server.cc); others are 500.
HTTP_STATUS = {
    1: 499,
    3: 400,
    4: 504,
    5: 404,
    6: 409,
    7: 403,
    8: 429,
    9: 400,
    10: 409,
    11: 400,
    12: 501,
    14: 503,
    16: 401,
}


class ServingError(ModelzooError):
    """A request TF Serving would refuse, with the HTTP status it would answer.

    `code` is the TF status code (error_codes.proto, the same numbers as gRPC's) when TensorFlow
    gave one; otherwise the gRPC side derives it from the HTTP status (`grpc_code`).
    """

    def __init__(self, message: str, status: int = 400, code: int | None = None):
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def grpc_code(self) -> int:
        """The status code TF Serving's gRPC API answers this error with (a google.rpc code number)."""
        if self.code is not None:
            return self.code
        return {400: 3, 404: 5, 408: 4, 409: 9, 413: 8, 429: 8, 501: 12, 503: 14, 504: 4}.get(
            self.status, 13
        )


# ---------------------------------------------------------------------------------------------
# Signatures: read from TF Serving's metadata JSON, so the client works against either server.


@dataclass(frozen=True)
class Signature:
    """A serving signature's inputs and outputs (shapes without the batch dimension)."""

    name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]

    @classmethod
    def from_metadata(cls, metadata: dict, name: str = DEFAULT_SIGNATURE) -> Signature:
        """From a GET .../metadata answer (TF Serving's JSON form of its SignatureDefMap)."""
        signatures = metadata.get("metadata", {}).get("signature_def", {}).get("signature_def", {})
        if name not in signatures:
            raise ServingError(f"the model has no signature {name!r}; it has {sorted(signatures)}")

        def specs(tensors: dict) -> dict[str, TensorSpec]:
            out = {}
            for key, info in tensors.items():
                dims = [int(d["size"]) for d in info.get("tensor_shape", {}).get("dim", [])]
                shape = tuple(None if d < 0 else d for d in dims[1:])
                out[key] = TensorSpec.of_example(
                    key, shape, DTYPES.get(info.get("dtype", ""), "float32")
                )
            return out

        signature = signatures[name]
        return cls(name, specs(signature.get("inputs", {})), specs(signature.get("outputs", {})))

    @property
    def input(self) -> TensorSpec:
        """The only input (every zoo model has one)."""
        if len(self.inputs) != 1:
            raise ServingError(
                f"signature {self.name!r} takes {len(self.inputs)} inputs; give them by name"
            )
        return next(iter(self.inputs.values()))


# ---------------------------------------------------------------------------------------------
# The JSON request and response formats of TF Serving's REST API.


def encode_json(value: Any) -> Any:
    """A NumPy value as JSON: nested lists, bytes as {"b64": ...} (TF Serving's binary form)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return encode_json(value.tolist()) if value.dtype.kind in "OSU" else value.tolist()
    if isinstance(value, (list, tuple)):
        return [encode_json(v) for v in value]
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.generic):
        return value.item()
    return value
