"""JSON text as TF Serving writes it: rapidjson's PrettyWriter, as tensorflow_serving/util/json_tensor.cc
uses it for predictions, errors, and the JSON values its error messages quote.

    debug_string   JsonValueToDebugString: a value in an error message, cut at about 256 bytes
    tensors_json   MakeJsonFromTensors: "predictions" (rows) or "outputs" (columns)
    error_json     MakeJsonFromStatus: {"error": message}

Floats are written as WriteDecimal does: six significant digits when they read back as the same
float32 (or float64), else 9 (17) digits, and ".0" on whole numbers. NumPy only.
"""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from modelzoo.serving.protocol import ServingError

if TYPE_CHECKING:
    import numpy as np

_DEBUG_BYTES = 256


class PrettyWriter:
    """rapidjson::PrettyWriter's layout: 4-space indent, optionally single-line arrays.

    With `limit`, each event is dropped once the text reached that many bytes (JsonWriterWithLimit).
    """

    def __init__(self, limit: int | None = None):
        self.parts: list[str] = []
        self.size = 0
        self.limit = limit
        self.single_line = False
        self.levels: list[list] = []  # [in_array, value_count] per open container

    def _event(self, text: str, prefix: bool = True) -> bool:
        if self.limit is not None and self.size >= self.limit:
            return False
        if prefix and self.levels:
            level = self.levels[-1]
            if level[0]:
                head = ("," + (" " if self.single_line else "")) if level[1] else ""
                if not self.single_line:
                    head += "\n" + self._indent()
            elif level[1] % 2 == 0:
                head = (",\n" if level[1] else "\n") + self._indent()
            else:
                head = ": "
            text = head + text
            level[1] += 1
        self.parts.append(text)
        self.size += len(text.encode("utf-8", "surrogateescape"))
        return True

    def _indent(self) -> str:
        return " " * (4 * len(self.levels))

    def value(self, text: str) -> bool:
        """A scalar, already as JSON text."""
        return self._event(text)

    def start(self, array: bool) -> bool:
        if not self._event("[" if array else "{"):
            return False
        self.levels.append([array, 0])
        return True

    def end(self) -> bool:
        if self.limit is not None and self.size >= self.limit:
            return False
        array, count = self.levels.pop()
        close = "]" if array else "}"
        if count and not (array and self.single_line):
            close = "\n" + self._indent() + close
        self.parts.append(close)
        self.size += len(close)
        return True

    def text(self) -> str:
        return "".join(self.parts)


def string_text(value: str | bytes) -> str:
    """A JSON string as rapidjson escapes it (non-ASCII kept, \\u00XX in upper case)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "surrogateescape")
    text = json.dumps(value, ensure_ascii=False)
    return re.sub(r"\\u00([0-9a-f]{2})", lambda m: "\\u00" + m.group(1).upper(), text)


def double_text(value: float) -> str:
    """A parsed JSON double as rapidjson's Writer prints it (shortest digits, its Prettify layout)."""
    if value != value or value in (float("inf"), float("-inf")):
        return ""  # the writer refuses NaN and Infinity
    if value == 0:
        return "-0.0" if str(value).startswith("-") else "0.0"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text, length = "".join(map(str, digits)), len(digits)
    point = length + exponent
    minus = "-" if sign else ""
    if 0 <= exponent and point <= 21:
        return f"{minus}{text}{'0' * exponent}.0"
    if 0 < point <= 21:
        return f"{minus}{text[:point]}.{text[point:]}"
    if -6 < point <= 0:
        return f"{minus}0.{'0' * -point}{text}"
    mantissa = text if length == 1 else f"{text[0]}.{text[1:]}"
    return f"{minus}{mantissa}e{point - 1}"


def _write_value(writer: PrettyWriter, value: Any) -> bool:
    if isinstance(value, list):
        if not writer.start(True):
            return False
        for item in value:
            if not _write_value(writer, item):
                return False
        return writer.end()
    if isinstance(value, dict):
        if not writer.start(False):
            return False
        for key, item in getattr(value, "pairs", None) or list(value.items()):
            if not writer.value(string_text(key)) or not _write_value(writer, item):
                return False
        return writer.end()
    if value is None:
        return writer.value("null")
    if isinstance(value, bool):
        return writer.value("true" if value else "false")
    if isinstance(value, int):
        return writer.value(str(value))
    if isinstance(value, float):
        text = double_text(value)
        return bool(text) and writer.value(text)
    return writer.value(string_text(value))


def debug_string(value: Any) -> str:
    """JsonValueToDebugString: the value as TF Serving's errors quote it."""
    writer = PrettyWriter(limit=_DEBUG_BYTES)
    writer.single_line = True
    _write_value(writer, value)
    return writer.text()


def decimal_text(value: float, dtype: str) -> str:
    """WriteDecimal: %g if that reads back as the same float32 (float64), else 9 (17) digits."""
    import numpy as np

    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "-Infinity" if value < 0 else "Infinity"
    text = f"{value:g}"
    same = np.float32(text) == np.float32(value) if dtype == "float32" else float(text) == value
    if not same:
        text = f"{value:.9g}" if dtype == "float32" else f"{value:.17g}"
    return text if "." in text or "e" in text else text + ".0"


def _element_writer(array: np.ndarray, bytes_as_b64: bool):
    """(writer of one element) for an output's dtype, as AddSingleValueAndAdvance."""
    kind, name = array.dtype.kind, array.dtype.name
    if name in ("float32", "float64"):
        return lambda w, v: w.value(decimal_text(float(v), name))
    if kind in "iu" and name != "uint16":
        return lambda w, v: w.value(str(int(v)))
    if kind == "b":
        return lambda w, v: w.value("true" if v else "false")
    if kind in "OS":

        def write(w: PrettyWriter, v: Any) -> bool:
            raw = v if isinstance(v, bytes) else str(v).encode()
            if not bytes_as_b64:
                return w.value(string_text(raw))
            w.start(False)
            w.value('"b64"')
            w.value(string_text(base64.b64encode(raw).decode("ascii")))
            return w.end()

        return write
    type_name = {"float16": "half"}.get(name, name)
    raise ServingError(f"Failed to write JSON value for tensor type: {type_name}", 400, 3)


def _write_tensor(writer: PrettyWriter, array: np.ndarray, write_element) -> None:
    """AddTensorValues: nested lists of the array's elements (a scalar as itself)."""
    if array.ndim == 0:
        write_element(writer, array.item() if array.dtype.kind != "O" else array[()])
        return
    writer.start(True)
    if array.ndim == 1:
        for element in array.tolist() if array.dtype.kind not in "OS" else array:
            write_element(writer, element)
    else:
        for sub in array:
            _write_tensor(writer, sub, write_element)
    writer.end()


def tensors_json(outputs: dict[str, np.ndarray], row_format: bool) -> str:
    """MakeJsonFromTensors: the predict answer's text, outputs in key order."""
    if not outputs:
        raise ServingError("Cannot convert empty tensor map to JSON", 400, 3)
    outputs = dict(sorted(outputs.items()))
    # Outputs named *_bytes of type string are written as {"b64": ...} (IsNamedTensorBytes).
    writers = {
        key: _element_writer(value, key.endswith("_bytes") and value.dtype.kind in "OS")
        for key, value in outputs.items()
    }
    writer = PrettyWriter()
    writer.start(False)
    many = len(outputs) > 1
    if not row_format:
        writer.value('"outputs"')
        if many:
            writer.start(False)
        for key, value in outputs.items():
            if many:
                writer.value(string_text(key))
            _write_tensor(writer, value, writers[key])
        if many:
            writer.end()
        writer.end()
        return writer.text()
    batch = -1
    for key, value in outputs.items():
        if value.ndim == 0:
            raise ServingError(f"Tensor name: {key} has no shape information ", 400, 3)
        if batch >= 0 and value.shape[0] != batch:
            raise ServingError(
                f"Tensor name: {key} has inconsistent batch size: {value.shape[0]} "
                f"expecting: {batch}",
                400,
                3,
            )
        batch = value.shape[0]
    writer.value('"predictions"')
    writer.start(True)
    for item in range(batch):
        if many:
            writer.start(False)
        writer.single_line = True
        for key, value in outputs.items():
            if many:
                writer.value(string_text(key))
            _write_tensor(writer, value[item], writers[key])
        writer.single_line = False
        if many:
            writer.end()
    writer.end()
    writer.end()
    return writer.text()


def error_json(message: str) -> str:
    """MakeJsonFromStatus: {"error": message} in TF Serving's layout."""
    writer = PrettyWriter()
    writer.start(False)
    writer.value('"error"')
    writer.value(string_text(message))
    writer.end()
    return writer.text()
