"""A recipe's [targets] section: what a full run is checked against beyond its [publish] gate.

    [targets]
    slope = 2.0                 # the fitted line (a model of one unit on one feature):
    intercept = 0.5             # w within line_tolerance of slope, b within it of intercept
    line_tolerance = 0.05
    train_seconds = 60          # model.fit must take less than this
    wild_digits_accuracy = 0.95 # test accuracy goal on the held-out digits users bring

`benchmarks/publish_weights.py` checks them on each built-in recipe's full run and records the
result in recipes/results.json; they gate nothing and change no training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

FIELDS = ("slope", "intercept", "line_tolerance", "train_seconds", "wild_digits_accuracy")
LINE = ("slope", "intercept", "line_tolerance")


@dataclass(frozen=True)
class Targets:
    """A recipe's extra targets; None where it has none."""

    #: (slope, intercept, tolerance) of the fitted line.
    line: tuple[float, float, float] | None = None
    train_seconds: float | None = None
    wild_digits_accuracy: float | None = None


def targets_from(section: dict[str, Any]) -> tuple[Targets, list[tuple[str, str]]]:
    """The [targets] section as Targets, and its problems as (field, message) pairs."""
    problems = []
    for key, value in section.items():
        if key not in FIELDS:
            problems.append((key, f"unknown field; [targets] takes {', '.join(FIELDS)}"))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            problems.append((key, f"must be a number, got {value!r}"))
        elif not math.isfinite(value):
            problems.append((key, f"must be finite, got {value!r}"))
    given = [key for key in LINE if key in section]
    if given and len(given) != len(LINE):
        missing = [key for key in LINE if key not in section]
        problems.append((missing[0], f"missing: a line target takes {', '.join(LINE)}"))
    for key in ("line_tolerance", "train_seconds"):
        if key in section and not problems and section[key] <= 0:
            problems.append((key, f"must be positive, got {section[key]!r}"))
    accuracy = section.get("wild_digits_accuracy")
    if accuracy is not None and not problems and not 0 < accuracy <= 1:
        problems.append(("wild_digits_accuracy", f"must be in (0, 1], got {accuracy!r}"))
    if problems:
        return Targets(), problems
    line = tuple(float(section[key]) for key in LINE) if given else None
    seconds, accuracy = section.get("train_seconds"), section.get("wild_digits_accuracy")
    return (
        Targets(
            line=line,
            train_seconds=None if seconds is None else float(seconds),
            wild_digits_accuracy=None if accuracy is None else float(accuracy),
        ),
        [],
    )
