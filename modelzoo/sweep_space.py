"""A sweep's search space: the base recipe, the --grid parameters and their values, each value
checked as a recipe override before anything runs (no TensorFlow)."""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelzoo import recipe_file as recipes
from modelzoo.errors import RecipeError, UsageError
from modelzoo.recipe_file import Recipe


@dataclass(frozen=True)
class Parameter:
    """One searched recipe field ("model.hidden_units") and the values to try."""

    field: str
    values: tuple[Any, ...]

    @property
    def label(self) -> str:
        return self.field.split(".", 1)[1]


@dataclass(frozen=True)
class SearchSpace:
    """The base recipe, the parameters, and how to search them (all of the grid, or `trials` at random)."""

    base: Recipe
    overrides: dict[str, Any]
    parameters: tuple[Parameter, ...]
    random_trials: int | None = None

    #: The command-line option that gave an override ("train.epochs": "--epochs"), for errors.
    options: dict[str, str] = field(default_factory=dict)

    @property
    def grid_size(self) -> int:
        return math.prod(len(p.values) for p in self.parameters)

    @property
    def trials(self) -> int:
        return min(self.random_trials, self.grid_size) if self.random_trials else self.grid_size

    @property
    def objective(self) -> tuple[str, str]:
        """(dev metric, direction): accuracy if measured, else the loss."""
        return ("accuracy", "max") if "accuracy" in self.base.train.metrics else ("loss", "min")

    def recipe_for(self, values: dict[str, Any]) -> Recipe:
        """The base recipe with one trial's values (already checked when the space was made)."""
        return recipes.load(
            self.base.source, {**self.overrides, **values}, _options_without(self.options, values)
        )

    def fingerprint(self) -> str:
        """A short hash of everything that defines the search: the same command finds the same folder."""
        content = {
            "recipe": {k: v for k, v in self.base.to_dict().items() if k != "source"},
            "parameters": [[p.field, list(p.values)] for p in self.parameters],
            "random_trials": self.random_trials,
        }
        return hashlib.sha256(
            json.dumps(content, sort_keys=True, default=str).encode()
        ).hexdigest()[:10]


def parse_grid(text: str, base: Recipe) -> Parameter:
    """'hidden_units=32,64,128' or 'train.learning_rate=1e-3,3e-3' -> a checked Parameter."""
    key, sep, values_text = text.partition("=")
    key = key.strip()
    if not sep or not key or not values_text.strip():
        raise UsageError(
            f"--grid {text!r}: write FIELD=V1,V2,..., e.g. --grid hidden_units=32,64,128"
        )
    field = key if "." in key else _section_of(key, base)
    values = _parse_values(values_text)
    if len(set(map(json.dumps, values))) != len(values):
        raise UsageError(f"--grid {key}: a value appears twice in {values_text!r}")
    return Parameter(field, tuple(values))


def _section_of(key: str, base: Recipe) -> str:
    """The section of a bare field name: [train] and [data] fields by name, anything else the model's."""
    for section in ("train", "data"):
        if key in recipes.SECTIONS[section]:
            return f"{section}.{key}"
    return f"model.{key}"


def _parse_values(text: str) -> list[Any]:
    """'32,64,128' -> [32, 64, 128]; '[64,32],[128]' -> [[64, 32], [128]]; 'adam,sgd' -> ['adam', 'sgd']."""
    try:
        values = tomllib.loads(f"v = [{text}]")["v"]
    except tomllib.TOMLDecodeError:
        values = [recipes.parse_value(item.strip()) for item in text.split(",")]
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    if len(numbers) == len(values) and any(isinstance(v, float) for v in numbers):
        values = [float(v) for v in values]  # 0,1e-3 -> 0.0, 0.001: one type per parameter
    return values


def _options_without(options: dict[str, str], fields) -> dict[str, str]:
    """The options that still give their field once `fields` are set by a trial or a --grid."""
    return {key: option for key, option in options.items() if key not in fields}


def make_space(
    name_or_path: str,
    grids: list[str],
    overrides: dict[str, Any] | None = None,
    random_trials: int | None = None,
    *,
    options: dict[str, str] | None = None,
) -> SearchSpace:
    """Check the recipe, every --grid value (each one as a recipe override) and the trial budget; no
    TensorFlow. `options` names the command-line option of an override, as `recipe_file.load`."""
    overrides, options = dict(overrides or {}), dict(options or {})
    base = recipes.load(name_or_path, overrides, options)
    if not grids:
        raise UsageError(
            "sweep: give at least one --grid FIELD=V1,V2,..., e.g. --grid hidden_units=32,64,128"
        )
    parameters = tuple(parse_grid(text, base) for text in grids)
    fields = [p.field for p in parameters]
    if len(set(fields)) != len(fields):
        raise UsageError(f"sweep: a field is given twice in --grid ({', '.join(fields)})")
    for parameter in parameters:
        others = _options_without(options, {parameter.field})
        for value in parameter.values:
            try:
                recipes.load(name_or_path, {**overrides, parameter.field: value}, others)
            except RecipeError as error:
                raise UsageError(
                    f"--grid {parameter.label}={value!r}: {error.detail}", field=parameter.field
                ) from None
    if random_trials is not None and random_trials < 1:
        raise UsageError(f"--random must be a positive number of trials, got {random_trials}")
    return SearchSpace(base, overrides, parameters, random_trials, options)


def sweep_dir(space: SearchSpace, runs_root: str | os.PathLike = "runs") -> Path:
    """runs/<recipe>/sweep-<fingerprint>: found again by the same command, so a rerun resumes."""
    return Path(runs_root) / space.base.name / f"sweep-{space.fingerprint()}"
