"""FillPredictRequestFromJson of tensorflow_serving/util/json_tensor.cc, case by case: a parsed predict
body (`json_parse.parse_json`) to {input key: NumPy batch}, with TF Serving's error texts.

Two deliberate differences, each a 400 where TF Serving silently changes the value: an integer
outside a uint8/int8/int16 input's range (TF Serving wraps 300 to 44) and a finite number too
large for a float input (TF Serving passes infinity on). NumPy only; no TensorFlow.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from modelzoo.serving.json_parse import JsonObject
from modelzoo.serving.json_writer import debug_string, double_text
from modelzoo.serving.protocol import ServingError

if TYPE_CHECKING:
    import numpy as np

#: TF's DataType names as DataTypeString() prints them, by signature dtype enum name.
TYPE_NAMES = {
    "DT_FLOAT": "float",
    "DT_DOUBLE": "double",
    "DT_INT32": "int32",
    "DT_UINT8": "uint8",
    "DT_INT16": "int16",
    "DT_INT8": "int8",
    "DT_STRING": "string",
    "DT_INT64": "int64",
    "DT_BOOL": "bool",
    "DT_UINT16": "uint16",
    "DT_HALF": "half",
    "DT_UINT32": "uint32",
    "DT_UINT64": "uint64",
    "DT_BFLOAT16": "bfloat16",
}
#: JSON integers each integer type takes (rapidjson's IsInt, IsInt64, IsUint, IsUint64).
_INT_RANGES = {
    "DT_INT32": (-(2**31), 2**31 - 1),
    "DT_INT16": (-(2**31), 2**31 - 1),
    "DT_INT8": (-(2**31), 2**31 - 1),
    "DT_UINT8": (-(2**31), 2**31 - 1),
    "DT_INT64": (-(2**63), 2**63 - 1),
    "DT_UINT32": (0, 2**32 - 1),
    "DT_UINT64": (0, 2**64 - 1),
}
_NUMPY = {
    "DT_FLOAT": "float32",
    "DT_DOUBLE": "float64",
    "DT_INT32": "int32",
    "DT_INT16": "int16",
    "DT_INT8": "int8",
    "DT_UINT8": "uint8",
    "DT_INT64": "int64",
    "DT_UINT32": "uint32",
    "DT_UINT64": "uint64",
    "DT_BOOL": "bool",
    "DT_STRING": "object",
}
#: TF's largest tensor rank (TensorShape::MaxDimensions); a deeper JSON list is "tensor parsing error".
MAX_RANK = 254


class Unparseable:
    """A tensor TF Serving builds but cannot turn into a Tensor (rank above MAX_RANK)."""

    def __init__(self, shape: list[int]):
        self.shape = shape


def _invalid(message: str) -> ServingError:
    return ServingError(message, 400, 3)


# ---------------------------------------------------------------------------------------------
# FillPredictRequestFromJson: the request body to {input key: batch}.


def _type_error(value: Any, dtype: str) -> ServingError:
    if isinstance(value, dict):
        kind = "Object"
    elif isinstance(value, bool):
        kind = "True" if value else "False"
    elif value is None:
        kind = "Null"
    elif isinstance(value, (int, float)):
        kind = "Number"
    else:
        kind = "Array" if isinstance(value, list) else "String"
    return _invalid(
        f"JSON Value: {debug_string(value)} Type: {kind} is not of expected type: "
        f"{TYPE_NAMES.get(dtype, dtype)}"
    )


def _leaf(value: Any, dtype: str) -> Any:
    """One JSON value as a tensor element (AddValueToTensor, base64 objects for strings)."""
    if isinstance(value, dict):
        if dtype != "DT_STRING":
            raise _type_error(value, dtype)
        if not (len(value) == 1 and isinstance(value.get("b64"), str)) or (
            isinstance(value, JsonObject) and len(value.pairs) != 1
        ):
            raise _invalid(
                f"JSON Value: {debug_string(value)} not formatted correctly for base64 data"
            )
        encoded = value["b64"].encode("ascii", "replace")
        try:
            return base64.b64decode(encoded + b"=" * (-len(encoded) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise _invalid("Unable to base64 decode") from None
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        ok = number
    elif dtype in _INT_RANGES:
        low, high = _INT_RANGES[dtype]
        ok = number and isinstance(value, int) and low <= value <= high
    elif dtype == "DT_STRING":
        ok = isinstance(value, str)
        if ok:
            return value.encode("utf-8", "surrogateescape")
    elif dtype == "DT_BOOL":
        ok = isinstance(value, bool)
    else:
        raise ServingError(
            f"Conversion of JSON Value: {debug_string(value)} to type: "
            f"{TYPE_NAMES.get(dtype, dtype)}",
            501,
            12,
        )
    if not ok:
        raise _type_error(value, dtype)
    return value


def _dense_shape(value: Any) -> list[int]:
    """GetDenseTensorShape: list sizes down the first element of each level."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _fill(value: Any, shape: list[int], dtype: str) -> list:
    """FillTensorProto: the values in order, or the first error TF Serving's walk meets."""
    rank, values = len(shape), []
    stack = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, list):
            if level != rank:
                raise _invalid(
                    f"JSON Value: {debug_string(item)} found at incorrect level: {level + 1} "
                    f"in the JSON DOM. Expected at level: {rank}"
                )
            values.append(_leaf(item, dtype))
            continue
        if level >= rank:
            raise _invalid(f"Encountered list at unexpected level: {level} expected < {rank}")
        if len(item) != shape[level]:
            raise _invalid(
                f"Encountered list at unexpected size: {len(item)} at level: {level} "
                f"expected size: {shape[level]}"
            )
        stack.extend((child, level + 1) for child in reversed(item))
    return values


def _array(values: list, shape: list[int], dtype: str) -> np.ndarray | Unparseable:
    """The values as the input's NumPy array, refusing what TF Serving would silently change."""
    import numpy as np

    if len(shape) > min(MAX_RANK, 32):
        return Unparseable(shape)
    numpy_dtype = _NUMPY[dtype]
    if dtype in ("DT_UINT8", "DT_INT8", "DT_INT16") and values:
        info = np.iinfo(numpy_dtype)
        bad = next((v for v in values if not info.min <= v <= info.max), None)
        if bad is not None:  # deliberate difference: TF Serving keeps the low bits
            wrapped = np.array(bad, np.int64).astype(numpy_dtype)
            raise _invalid(
                f"JSON Value: {bad} is outside the range of {TYPE_NAMES[dtype]} "
                f"[{info.min}, {info.max}]; TF Serving would silently use {wrapped}, "
                "modelzoo serve refuses it"
            )
    if dtype in ("DT_FLOAT", "DT_DOUBLE"):
        with np.errstate(over="ignore"):
            source = np.array(values, dtype=np.float64)
            array = source.astype(numpy_dtype)
        overflow = np.isinf(array) & np.isfinite(source)
        if overflow.any():  # deliberate difference: TF Serving passes infinity to the model
            raise _invalid(
                f"JSON Value: {double_text(float(source[overflow][0]))} is too large for "
                f"{TYPE_NAMES[dtype]}; TF Serving would silently use infinity, modelzoo serve "
                "refuses it"
            )
        return array.reshape(shape)
    if dtype == "DT_STRING":
        array = np.empty(len(values), dtype=object)
        array[:] = values
        return array.reshape(shape)
    return np.array(values, dtype=numpy_dtype).reshape(shape)


def _status_text(error: ServingError) -> str:
    """absl::Status::ToString of a wrapped error."""
    return f"{'UNIMPLEMENTED' if error.code == 12 else 'INVALID_ARGUMENT'}: {error}"


def _from_instances(rows: list, inputs: dict[str, str]) -> dict:
    """FillTensorMapFromInstancesList."""
    if not isinstance(rows[0], dict) and len(inputs) > 1:
        raise _invalid(
            "instances is a plain list, but expecting list of objects as multiple input tensors "
            "required as per tensorinfo_map"
        )

    def is_object(value: Any) -> bool:
        return isinstance(value, dict) and not _is_base64(value)

    named = is_object(rows[0])
    values: dict[str, list] = {}
    shapes: dict[str, tuple[int, list[int]]] = {}

    def add(item: Any, name: str) -> None:  # AddInstanceItem
        if name not in inputs:
            raise _invalid(f"JSON object: does not have named input: {name}")
        shape = _dense_shape(item)
        filled = _fill(item, shape, inputs[name])
        if name not in shapes:
            shapes[name] = (len(filled), shape)
        elif shapes[name][0] != len(filled):
            raise _invalid(f"Expecting tensor size: {shapes[name][0]} but got: {len(filled)}")
        elif shapes[name][1] != shape:
            raise _invalid(
                f"Expecting shape {_shape_text(shapes[name][1])} but got: {_shape_text(shape)}"
            )
        values.setdefault(name, []).extend(filled)

    for index, row in enumerate(rows):
        if named:
            if not is_object(row):
                raise _invalid(f"Expecting object but got list at item {index} of input list")
            pairs = row.pairs if isinstance(row, JsonObject) else list(row.items())
            for name, item in pairs:
                try:
                    add(item, name)
                except ServingError as error:
                    raise _invalid(
                        f"Failed to process element: {index} key: {name} of 'instances' list. "
                        f"Error: {_status_text(error)}"
                    ) from None
            if set(row) != set(inputs):
                raise _invalid(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{debug_string(row)} keys must be equal to: {','.join(sorted(inputs))}"
                )
        else:
            if is_object(row):
                raise _invalid(f"Expecting value/list but got object at item {index} of input list")
            try:
                add(row, next(iter(inputs)))
            except ServingError as error:
                raise _invalid(
                    f"Failed to process element: {index} of 'instances' list. "
                    f"Error: {_status_text(error)}"
                ) from None
    return {
        name: _array(values[name], [len(rows), *shapes[name][1]], inputs[name])
        for name in sorted(values)
    }


def _from_inputs(columns: Any, inputs: dict[str, str]) -> dict:
    """FillTensorMapFromInputsMap."""
    if not isinstance(columns, dict) or _is_base64(columns):
        if len(inputs) > 1:
            raise _invalid(
                "inputs is a plain value/list, but expecting an object as multiple input tensors "
                "required as per tensorinfo_map"
            )
        columns = {next(iter(inputs)): columns}
    batch = {}
    for name, dtype in inputs.items():
        if name not in columns:
            raise _invalid(f"Missing named input: {name} in 'inputs' object.")
        shape = _dense_shape(columns[name])
        batch[name] = _array(_fill(columns[name], shape, dtype), shape, dtype)
    return batch


def _is_base64(value: Any) -> bool:
    pairs = value.pairs if isinstance(value, JsonObject) else list(value.items())
    return len(pairs) == 1 and pairs[0][0] == "b64" and isinstance(pairs[0][1], str)


def _shape_text(shape: list[int]) -> str:
    return "[" + ",".join(map(str, shape)) + "]"


def signature_name(body: dict) -> str:
    """FillSignature: the body's signature_name ('' when absent), or the 400 for a non-string."""
    name = body.get("signature_name", "")
    if not isinstance(name, str):
        raise _invalid(
            f"JSON Value: {debug_string(body)} not formatted correctly. 'signature_name' key "
            "must be a string value."
        )
    return name


def fill_predict_request(
    body: dict, input_types: Callable[[str], dict[str, str]]
) -> tuple[str, dict, bool]:
    """(signature name, {input key: batch}, row format) from a parsed predict body.

    `input_types(signature name)` gives {input key: DataType enum name} of that signature (it
    looks the model up, so its errors come after the body's own, as in TF Serving).
    """
    name = signature_name(body)
    inputs = dict(sorted(input_types(name).items()))
    if not inputs:
        raise _invalid(f"Failed to get input map for signature: {name or 'DEFAULT'}")
    if "instances" in body:
        if "inputs" in body:
            raise _invalid(
                f"JSON Value: {debug_string(body)} Not formatted correctly expecting only one of "
                "'inputs' or 'instances' keys to exist "
            )
        rows = body["instances"]
        if not isinstance(rows, list):
            raise _invalid(
                f"JSON Value: {debug_string(body)} Expecting 'instances' to be an list/array"
            )
        if not rows:
            raise _invalid(f"JSON Value: {debug_string(body)} No values in 'instances' array")
        return name, _from_instances(rows, inputs), True
    if "inputs" in body:
        return name, _from_inputs(body["inputs"], inputs), False
    raise _invalid("Missing 'inputs' or 'instances' key")
