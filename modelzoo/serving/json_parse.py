"""Reading a request body as TF Serving's rapidjson reads it (tensorflow_serving/util/json_tensor.cc
ParseJson: kParseIterativeFlag | kParseNanAndInfFlag | kParseStopWhenDoneFlag).

Its error texts ("JSON Parse error: Invalid value. at offset: 12"), text after the document
ignored, NaN and Infinity read as numbers, integers kept as int64/uint64 and larger ones as
doubles, no UTF-8 check, no depth limit. No TensorFlow.
"""

from __future__ import annotations

import json
import re
from typing import Any

from modelzoo.serving.json_writer import debug_string
from modelzoo.serving.protocol import ServingError


class JsonObject(dict):
    """A JSON object: lookups see a key's first value (rapidjson FindMember), `pairs` all members."""

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__(reversed(pairs))
        self.pairs = pairs


def _invalid(message: str) -> ServingError:
    return ServingError(message, 400, 3)


_PY_TO_RAPIDJSON = {
    "Expecting value": "Invalid value.",
    "Expecting property name enclosed in double quotes": "Missing a name for object member.",
    "Expecting ':' delimiter": "Missing a colon after a name of object member.",
    "Unterminated string starting at": "Missing a closing quotation mark in string.",
    "Invalid control character at": "Invalid encoding in string.",
    "Invalid \\escape": "Invalid escape character in string.",
    "Invalid \\uXXXX escape": "Incorrect hex digit after \\u escape in string.",
}
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_TOKEN = re.compile(
    r'\s*(?:([\[\]{},:])|("(?:[^"\\\x00-\x1f]|\\.)*")|'
    r"(-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|-?Infinity|NaN|true|false|null))"
)


class _TooBig(ValueError):
    pass


def _number(text: str) -> int | float:
    """A JSON number as rapidjson stores it: int64/uint64 integers, doubles otherwise."""
    if re.fullmatch(r"-?\d+", text):
        value = int(text) if len(text) < 30 else None
        if value is not None and -(2**63) <= value < 2**64:
            return value
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _TooBig(text)
    return value


def _parse_error(text: str, position: int, message: str) -> ServingError:
    offset = len(text[:position].encode("utf-8", "surrogateescape"))
    return _invalid(f"JSON Parse error: {message} at offset: {offset}")


def parse_json(body: bytes) -> Any:
    """The request body as rapidjson reads it, or TF Serving's 400 'JSON Parse error: ...'.

    Bytes are not checked for UTF-8 (rapidjson does not validate encoding): invalid bytes come
    through in strings as surrogate escapes.
    """
    if not body:
        raise _invalid("JSON Parse error: The document is empty")
    text = body.decode("utf-8", "surrogateescape")
    start = len(text) - len(text.lstrip(" \t\n\r"))
    if start == len(text):
        raise _parse_error(text, start, "The document is empty.")
    if _depth(text) > 400:  # Python's own parser recurses; rapidjson's iterative one does not
        value = _parse_iteratively(text, start)
    else:
        decoder = json.JSONDecoder(
            object_pairs_hook=JsonObject, parse_int=_number, parse_float=_number
        )
        try:
            value, _ = decoder.raw_decode(text, start)
        except _TooBig as error:
            raise _parse_error(
                text, text.find(str(error)), "Number too big to be stored in double."
            ) from None
        except json.JSONDecodeError as error:
            message = _PY_TO_RAPIDJSON.get(error.msg)
            if error.msg == "Expecting ',' delimiter":
                inner = _open_bracket(text[: error.pos])
                message = (
                    "Missing a comma or '}' after an object member."
                    if inner == "{"
                    else "Missing a comma or ']' after an array element."
                )
            raise _parse_error(text, error.pos, message or "Invalid value.") from None
    if not isinstance(value, dict):
        raise _invalid(f"JSON Value: {debug_string(value)} Is not object")
    return value


def _depth(text: str) -> int:
    if text.count("[") + text.count("{") <= 400:
        return 0
    import numpy as np

    codes = np.frombuffer(_STRING.sub('""', text).encode("utf-8", "surrogateescape"), np.uint8)
    brackets = codes[(codes == 0x5B) | (codes == 0x7B) | (codes == 0x5D) | (codes == 0x7D)]
    return int(np.cumsum(np.where((brackets == 0x5B) | (brackets == 0x7B), 1, -1)).max())


def _open_bracket(prefix: str) -> str:
    stack = []
    for char in _STRING.sub('""', prefix):
        if char in "[{":
            stack.append(char)
        elif char in "]}" and stack:
            stack.pop()
    return stack[-1] if stack else ""


def _parse_iteratively(text: str, position: int) -> Any:
    """Deeply nested JSON without recursion (rare: only bodies nested more than 400 deep)."""
    stack: list[tuple[list, str | None]] = []  # (members so far, pending key) per open container
    value: Any = None
    while True:
        match = _TOKEN.match(text, position)
        if not match:
            raise _parse_error(text, position, "Invalid value.")
        position = match.end()
        punct, string, literal = match.groups()
        done = True
        if punct in ("[", "{"):
            stack.append(([] if punct == "[" else [], punct))
            done = False
        elif punct in ("]", "}"):
            if not stack:
                raise _parse_error(text, match.start(1), "Invalid value.")
            members, kind = stack.pop()
            if (kind == "[") != (punct == "]"):
                raise _parse_error(text, match.start(1), "Invalid value.")
            value = members if kind == "[" else JsonObject(list(zip(members[::2], members[1::2])))
        elif punct in (",", ":"):
            done = False
        elif string is not None:
            value = json.loads(string)
        else:
            value = {"true": True, "false": False, "null": None}.get(literal, literal)
            if isinstance(value, str):
                value = {"NaN": float("nan"), "Infinity": float("inf")}.get(value) or (
                    float("-inf") if value == "-Infinity" else _number(value)
                )
        if done:
            if not stack:
                return value
            stack[-1][0].append(value)
