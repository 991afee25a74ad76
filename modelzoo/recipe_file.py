"""Recipes: a TOML file that says everything about a training run, parsed and checked up front.

    description = "..."
    [model]            # a zoo model and keyword overrides of its factory
    name = "softmax_mnist_classifier"
    hidden_units = 256
    [data]             # a data set of modelzoo.data, optionally cut to N examples per split
    name = "mnist"
    [train]            # loss, optimizer, learning rate (and schedule, warm-up), metrics, batches,
                       # epochs, early stopping on dev, optionally a final refit on train + dev,
                       # and speed and averaging levers (precision, steps_per_execution,
                       # ema_momentum)
    loss = "sparse_categorical_crossentropy"
    ...
    [augment]          # optional, image data only: random changes to each training image
    rotation = 10      # (modelzoo.augment.Augmentation), drawn afresh every epoch
    [export]           # the folder name under the export dir, and the tag of the weights it
    name = "mnist"     # ships as (default: the data set's name)
    [publish]          # the gate before a new version is served (modelzoo.gate): the test
    minimum = 0.98     # metric's target and how much worse than the served version is allowed
    [predict]          # optional, feature rows only: inputs whose predictions the run prints
    inputs = [[4.0]]   # and records in metrics.json (a worked example's query points)
    [targets]          # optional: what benchmarks/publish_weights.py checks a full run against
    train_seconds = 60 # beyond [publish] (modelzoo.targets)

A recipe name is a built-in recipe (recipes/*.toml) or, after those, a `NAME.toml` in a folder of
$MODELZOO_RECIPES_PATH (folders separated by os.pathsep).

Parsing and every check run before TensorFlow is imported: a mistake is one line naming the
file, the line and the field (or the command-line option that gave the value). This module finds
and reads recipe files and applies the command line's values; modelzoo.recipe_settings holds
`Recipe` and what a file may say, modelzoo.recipe_check the checks.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from modelzoo.errors import RecipeError, Source
from modelzoo.recipe_check import Origins, resolve
from modelzoo.recipe_index import (  # noqa: F401  (importable from here, as callers do)
    RECIPES_PATH_ENV,
    builtin_names,
    find,
    model_of,
    read_text,
    recipe_names,
    recipe_path,
)
from modelzoo.recipe_settings import (  # noqa: F401  (importable from here, as callers do)
    MAX_COUNT,
    METRICS,
    OPTIMIZERS,
    SCHEDULES,
    SECTIONS,
    SEED_LIMIT,
    Recipe,
    TrainSettings,
)

__all__ = [
    "RESULTS_FILE",
    "Recipe",
    "RecipeError",
    "SECTIONS",
    "TrainSettings",
    "builtin_names",
    "find",
    "format_metric",
    "load",
    "measured_results",
    "model_of",
    "parse_value",
    "read_text",
    "recipe_names",
    "recipe_path",
]


def load(
    name_or_path: str,
    overrides: dict[str, Any] | None = None,
    options: Mapping[str, str] | None = None,
) -> Recipe:
    """Read, override ("section.field": value) and check a recipe; no TensorFlow involved.

    `options` names the command-line option that gave an override ("train.learning_rate":
    "--learning-rate"), so that its error names the option; other overrides are `--set` values.
    """
    path = find(name_or_path)
    text = read_text(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RecipeError(f"not valid TOML: {error}", source=Source(path)) from None
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.rpartition(".")
        if not section:
            raise RecipeError(
                "name a field as section.field, e.g. train.epochs or model.hidden_units",
                field=dotted,
                source=Source(option="--set"),
            )
        if section not in SECTIONS:
            raise RecipeError(
                f"unknown section {section!r}; sections: {', '.join(SECTIONS)}",
                field=dotted,
                source=Source(option="--set"),
            )
        document.setdefault(section, {})[key] = value
    origins = Origins(path, text, frozenset(overrides or {}), dict(options or {}))
    return resolve(document, origins, name=path.stem)


def parse_value(text: str) -> Any:
    """A --set value: a TOML value if it parses as one (3, 1e-3, true, [32, 64]), else the string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


RESULTS_FILE = "results.json"


def measured_results() -> dict[str, dict[str, Any]]:
    """The recorded full runs of the built-in recipes (written by benchmarks/publish_weights.py)."""
    path = resources.files("modelzoo.recipes").joinpath(RESULTS_FILE)
    if not path.is_file():
        return {}
    return json.loads(path.read_text()).get("recipes", {})


def format_metric(metric: str, value: float) -> str:
    """A metric as people read it: accuracies in percent, anything else to four decimals."""
    return f"{value:.2%}" if "accuracy" in metric else f"{value:.4f}"
