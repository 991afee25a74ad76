"""Argument checks the factories run first, so a bad value fails before any TensorFlow work.

Each check returns the value in canonical form or raises `UsageError` naming the argument, in
its message and as its `field`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from modelzoo.errors import UsageError

#: The largest width, size or count: TensorFlow shapes and counters are int32 in places.
MAX_INT = 2**31 - 1
#: Seeds are what numpy and `keras.utils.set_random_seed` take: 0 <= seed < 2**32.
SEED_LIMIT = 2**32

ACTIVATIONS = ("sigmoid", "softmax", "relu", "tanh", "elu", "gelu", "selu", "swish", "linear")


def is_int(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """An int or float (not a bool) that is finite as a float: not nan, inf or an int beyond float's range."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def positive_int(argument: str, value: Any) -> int:
    """A positive integer (a width, a size, a count)."""
    if not is_int(value) or value < 1:
        raise UsageError(f"{argument} must be a positive integer, got {value!r}", field=argument)
    if value > MAX_INT:
        raise UsageError(f"{argument} must be at most {MAX_INT}, got {value!r}", field=argument)
    return value


def positive_ints(argument: str, value: Any, *, allow_empty: bool = False) -> tuple[int, ...]:
    """A sequence of positive integers (one width per layer); a single integer means one layer."""
    if is_int(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise UsageError(
            f"{argument} must be a list of positive integers, got {value!r}", field=argument
        )
    values = tuple(value)
    if not values and not allow_empty:
        raise UsageError(
            f"{argument} must list at least one positive integer, got {value!r}", field=argument
        )
    if not all(is_int(v) and v >= 1 for v in values):
        raise UsageError(
            f"{argument} must be a list of positive integers, got {value!r}", field=argument
        )
    if max(values, default=0) > MAX_INT:
        raise UsageError(
            f"{argument} must each be at most {MAX_INT}, got {value!r}", field=argument
        )
    return values


def non_negative_float(argument: str, value: Any) -> float:
    """A finite number >= 0 (an L2 penalty strength)."""
    if not is_finite_number(value) or value < 0:
        raise UsageError(f"{argument} must be a finite number >= 0, got {value!r}", field=argument)
    return float(value)


def positive_float(argument: str, value: Any) -> float:
    """A finite number > 0 (a scale factor)."""
    if not is_finite_number(value) or value <= 0:
        raise UsageError(f"{argument} must be a finite number > 0, got {value!r}", field=argument)
    return float(value)


def rate(argument: str, value: Any) -> float:
    """A dropout rate in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        raise UsageError(f"{argument} must be a rate in [0, 1), got {value!r}", field=argument)
    return float(value)


def activation(argument: str, value: Any) -> str:
    """The name of a Keras activation function."""
    if value is None:
        return "linear"
    if value not in ACTIVATIONS:
        raise UsageError(
            f"{argument} must be one of {', '.join(ACTIVATIONS)}, got {value!r}", field=argument
        )
    return value


def choice(argument: str, value: Any, options: tuple[str, ...]) -> str:
    """One of a fixed set of strings."""
    if value not in options:
        raise UsageError(
            f"{argument} must be one of {', '.join(options)}, got {value!r}", field=argument
        )
    return value


def seed(argument: str, value: Any) -> int | None:
    """A non-negative integer seed, or None for Keras' global seed (`keras.utils.set_random_seed`)."""
    if value is not None and (not is_int(value) or value < 0):
        raise UsageError(
            f"{argument} must be a non-negative integer or None, got {value!r}", field=argument
        )
    if value is not None and value >= SEED_LIMIT:
        raise UsageError(
            f"{argument} must be at most 4294967295 (2**32 - 1), got {value!r}", field=argument
        )
    return value


def flag(argument: str, value: Any) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise UsageError(f"{argument} must be true or false, got {value!r}", field=argument)
    return value
