"""Recipes: a TOML file that says everything about a training run, parsed and checked up front.

    description = "..."
    [model]            # a zoo model and keyword overrides of its factory
    name = "softmax_mnist_classifier"
    hidden_units = 256
    [data]             # a data set of modelzoo.data, optionally cut to N examples per split
    name = "mnist"
    [train]            # loss, optimizer, learning rate (and schedule), metrics, batches, epochs,
                       # early stopping on dev, and optionally a final refit on train + dev
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
import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from modelzoo.errors import RecipeError, Source
from modelzoo.recipe_check import Origins, resolve
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
from modelzoo.registry import did_you_mean

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


def builtin_names() -> list[str]:
    """Names of the recipes shipped in the modelzoo.recipes package, sorted."""
    folder = resources.files("modelzoo.recipes")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


#: Folders (separated by os.pathsep) searched for NAME.toml after the built-in recipes.
RECIPES_PATH_ENV = "MODELZOO_RECIPES_PATH"


def recipe_path() -> tuple[str, ...]:
    """The folders of $MODELZOO_RECIPES_PATH, in order (empty entries skipped)."""
    return tuple(d for d in os.environ.get(RECIPES_PATH_ENV, "").split(os.pathsep) if d)


def recipe_names() -> list[str]:
    """Every recipe a name finds: the built-in ones, then those on the recipe path they do not
    shadow (built-ins first, each group sorted)."""
    names = builtin_names()
    extra = {
        p.stem
        for folder in recipe_path()
        if Path(folder).is_dir()
        for p in Path(folder).glob("*.toml")
    }
    return names + sorted(extra - set(names))


def model_of(name_or_path: str) -> str | None:
    """The model a recipe file's [model] names (read, not checked), or None if it names none."""
    try:
        document = tomllib.loads(read_text(find(name_or_path)))
    except (RecipeError, tomllib.TOMLDecodeError):
        return None
    model = document.get("model", {})
    return model.get("name") if isinstance(model, dict) else None


def find(name_or_path: str) -> Path:
    """The file of a recipe name (built-in, then the recipe path), or a user's .toml path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            raise RecipeError(f"recipe file {path} is a folder; give the path of a .toml file")
        if not path.exists():
            raise RecipeError(f"recipe file {path} does not exist")
        return path
    if name_or_path not in builtin_names():
        for folder in recipe_path():
            if (Path(folder) / f"{name_or_path}.toml").is_file():
                return Path(folder) / f"{name_or_path}.toml"
        raise RecipeError(
            f"unknown recipe {name_or_path!r}{did_you_mean(name_or_path, builtin_names())}; "
            f"built-in recipes: {', '.join(builtin_names())} (or give a path to a .toml file)"
        )
    return Path(str(resources.files("modelzoo.recipes").joinpath(f"{name_or_path}.toml")))


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


def read_text(path: Path) -> str:
    """A recipe file's text, or a RecipeError saying why it cannot be read (unreadable, not UTF-8)."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RecipeError(f"recipe file {path} cannot be read: {error.strerror or error}") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise RecipeError(
            f"not UTF-8 text (byte {content[error.start]:#04x} at offset {error.start}); "
            "save the recipe as UTF-8",
            source=Source(path, line),
        ) from None


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
