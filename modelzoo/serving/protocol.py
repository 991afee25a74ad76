"""TF Serving's REST JSON tensor format: request parsing, response writing, and its error texts.

Everything here follows tensorflow_serving/util/json_tensor.cc and model_servers/http_server.cc,
so a client written against `modelzoo serve` works unchanged against TF Serving. No TensorFlow:
NumPy only, imported when a request is parsed.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelzoo.errors import ModelzooError
from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import numpy as np

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


def _decode_b64(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise ServingError(
                f'an object where a value was expected: {json.dumps(value)[:80]}; only {{"b64": ...}} is allowed'
            )
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise ServingError("a b64 value is not valid base64") from None
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value


#: Arrays and objects nested deeper than this are refused before parsing (never a RecursionError).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
#: The largest integer a float type holds exactly: TF Serving refuses a JSON integer above it for
#: that type (IsLosslessDecimal in tensorflow_serving/util/json_tensor.cc).
_EXACT_INTEGERS = {"float16": 2**11 - 1, "float32": 2**24 - 1, "float64": 2**53 - 1}


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings not counted), without parsing it."""
    import numpy as np

    if b'"' in body:
        body = _JSON_STRING.sub(b'""', body)
    codes = np.frombuffer(body, np.uint8)
    brackets = codes[(codes == 0x5B) | (codes == 0x7B) | (codes == 0x5D) | (codes == 0x7D)]
    if not brackets.size:
        return 0
    return int(np.cumsum(np.where((brackets == 0x5B) | (brackets == 0x7B), 1, -1)).max())


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or a 400: malformed, or nested deeper than MAX_JSON_DEPTH."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise ServingError(
            f"JSON Parse error: arrays and objects nested deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        return json.loads(body)
    except RecursionError:
        raise ServingError(
            f"JSON Parse error: arrays and objects nested deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError as error:  # UnicodeDecodeError included
        raise ServingError(f"JSON Parse error: {error}") from None


def _json_text(value: Any) -> str:
    text = json.dumps(value.decode("latin-1") if isinstance(value, bytes) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _as_tensor(value: Any, spec: TensorSpec, batched: bool, where: str) -> np.ndarray:
    """A JSON value as an array of the input's dtype and shape, or a 400 naming the contract.

    JSON types are checked as strictly as TF Serving does (tensorflow_serving/util/json_tensor.cc,
    AddValueToTensor): integers only for integer inputs (no booleans, no 1.0), booleans only for
    bool inputs, numbers for float inputs within the type's range and exact integers. NaN and
    Infinity are refused: TF Serving parses them (rapidjson kParseNanAndInfFlag) and passes them to
    the model, which answers NaN; no zoo model has a meaning for them, so the stand-in reports the
    client's bug instead.
    """
    import numpy as np

    value = _decode_b64(value)
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        raise ServingError(
            f"{where}: ragged values; every example must be {spec.example()}"
        ) from None
    flat = array.ravel()
    types = set(map(type, flat))
    if types & {list, dict, tuple}:
        raise ServingError(f"{where}: ragged values; every example must be {spec.example()}")
    expected = spec.shape if batched else spec.example_shape
    if array.ndim != len(expected) or any(
        d is not None and d != n for d, n in zip(expected, array.shape)
    ):
        shape = list(array.shape[1:] if batched else array.shape)
        raise ServingError(
            f"{where}: an example of shape {shape} where the model takes {spec.example()}"
        )
    kind = "O" if spec.dtype == "object" else np.dtype(spec.dtype).kind
    allowed = {"O": {str, bytes}, "b": {bool}, "i": {int}, "u": {int}, "f": {int, float}}.get(
        kind, {int, float}
    )
    if not types <= allowed:
        bad = next(v for v in flat if type(v) not in allowed)
        raise ServingError(
            f"{where}: JSON value {_json_text(bad)} is not of type {spec.dtype}; the model takes {spec.example()}"
        )
    if kind == "O":
        return array
    if kind in "iu":
        info = np.iinfo(spec.dtype)
        if min(flat) < info.min or max(flat) > info.max:
            raise ServingError(
                f"{where}: values outside {spec.dtype}'s range [{info.min}, {info.max}] for {spec.example()}"
            )
    elif kind == "f":
        return _as_floats(flat, types, spec, where).reshape(array.shape)
    return flat.astype(spec.dtype).reshape(array.shape)


def check_array(array: np.ndarray, spec: TensorSpec, where: str) -> np.ndarray:
    """A decoded batch (a gRPC TensorProto) checked as `_as_tensor` checks JSON: dtype, shape, finite.

    A 400 (INVALID_ARGUMENT over gRPC) names the contract, as the REST answers do.
    """
    import numpy as np

    expected = "object" if spec.dtype == "object" else np.dtype(spec.dtype).name
    if array.dtype.name != expected and not (expected == "object" and array.dtype.kind in "OS"):
        raise ServingError(
            f"{where}: a tensor of dtype {array.dtype.name} where the model takes {spec.example()}"
        )
    if array.ndim != len(spec.shape) or any(
        d is not None and d != n for d, n in zip(spec.shape, array.shape)
    ):
        raise ServingError(
            f"{where}: a batch of shape {list(array.shape)} where the model takes "
            f"{spec.example()} per example"
        )
    if not array.shape[0]:
        raise ServingError(f"{where}: an empty batch")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = array[~np.isfinite(array)][0]
        raise ServingError(
            f"{where}: {bad} is not a number the model can take ({spec.example()}); send finite values"
        )
    return array


def _as_floats(flat: np.ndarray, types: set, spec: TensorSpec, where: str) -> np.ndarray:
    """JSON numbers as a float input's dtype, or a 400: inexact integers, NaN, Infinity, overflow."""
    import numpy as np

    exact = _EXACT_INTEGERS.get(spec.dtype, 2**53 - 1)
    inexact = (
        next((v for v in flat if type(v) is int and abs(v) > exact), None) if int in types else None
    )
    if inexact is not None:
        raise ServingError(
            f"{where}: cannot convert JSON value {_json_text(inexact)} to {spec.dtype} without loss of precision"
        )
    numbers = flat.astype(np.float64)
    if not np.isfinite(numbers).all():
        bad = numbers[~np.isfinite(numbers)][0]
        raise ServingError(
            f"{where}: {bad} is not a number the model can take ({spec.example()}); send finite values"
        )
    if np.abs(numbers).max() > np.finfo(spec.dtype).max:
        bad = numbers[np.abs(numbers) > np.finfo(spec.dtype).max][0]
        raise ServingError(
            f"{where}: cannot convert JSON value {bad:g} to {spec.dtype} without loss of precision "
            f"(outside {spec.dtype}'s range)"
        )
    return numbers.astype(spec.dtype)


def requested_signature(body: Any) -> str | None:
    """The signature a predict body names (None: the default), or TF Serving's 400 for a non-string.

    As FillSignature in tensorflow_serving/util/json_tensor.cc.
    """
    name = body.get("signature_name") if isinstance(body, dict) else None
    if isinstance(body, dict) and "signature_name" in body and not isinstance(name, str):
        raise ServingError(
            f"JSON Value: {_json_text(name)} not formatted correctly. 'signature_name' key must be a string value."
        )
    return name


def parse_predict_request(body: Any, signature: Signature) -> tuple[dict[str, np.ndarray], bool]:
    """({input key: batch}, row_format) from a predict request's JSON body."""
    if not isinstance(body, dict):
        raise ServingError('the request body must be a JSON object with "instances" or "inputs"')
    if ("instances" in body) == ("inputs" in body):
        raise ServingError('give exactly one of "instances" (rows) or "inputs" (columns)')
    names = list(signature.inputs)
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise ServingError('"instances" must be a non-empty list of examples')
        named = [isinstance(r, dict) and "b64" not in r for r in rows]
        if any(named) != all(named):
            raise ServingError('"instances" mixes named ({input: value}) and bare examples')
        if not named[0]:
            if len(names) != 1:
                raise ServingError(
                    f"the signature takes inputs {names}: give each instance as an object keyed by them"
                )
            rows = [{names[0]: r} for r in rows]
        for index, row in enumerate(rows):
            if set(row) != set(names):
                raise ServingError(
                    f"instance {index}: keys {sorted(row)}, the signature takes {names}"
                )
        batch = {
            key: _as_tensor(
                [row[key] for row in rows], spec, batched=True, where=f"instances ({key})"
            )
            for key, spec in signature.inputs.items()
        }
        return batch, True
    columns = body["inputs"]
    if isinstance(columns, dict) and "b64" not in columns:
        if set(columns) != set(names):
            raise ServingError(f'"inputs" names {sorted(columns)}, the signature takes {names}')
    elif len(names) == 1:
        columns = {names[0]: columns}
    else:
        raise ServingError(
            f'the signature takes inputs {names}: give "inputs" as an object keyed by them'
        )
    batch = {
        key: _as_tensor(columns[key], spec, batched=True, where=f"inputs ({key})")
        for key, spec in signature.inputs.items()
    }
    if len({len(v) for v in batch.values()}) != 1:
        raise ServingError('"inputs" have different batch sizes')
    return batch, False


def format_predict_response(outputs: dict[str, np.ndarray], row_format: bool) -> dict:
    """TF Serving's answer: "predictions" per row or "outputs" per column; a lone output unnamed."""
    if row_format:
        if len(outputs) == 1:
            return {"predictions": encode_json(next(iter(outputs.values())))}
        count = len(next(iter(outputs.values())))
        return {
            "predictions": [
                {k: encode_json(v[i]) for k, v in outputs.items()} for i in range(count)
            ]
        }
    if len(outputs) == 1:
        return {"outputs": encode_json(next(iter(outputs.values())))}
    return {"outputs": {k: encode_json(v) for k, v in outputs.items()}}
