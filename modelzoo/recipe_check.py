"""Checking a recipe document (its TOML, with the command line's values applied), before TensorFlow.

Every problem is a `RecipeError` carrying the field and the `Source` of its value: the file and
line, `--set`, or the option that stands for the field (`--learning-rate`). `resolve` runs the
checks section by section and returns the `Recipe`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelzoo import checks, gate
from modelzoo import data as data_module
from modelzoo.augment import Augmentation
from modelzoo.errors import RecipeError, Source, UsageError
from modelzoo.losses import LOSSES, loss_problem
from modelzoo.recipe_settings import (
    MAX_COUNT,
    METRICS,
    OPTIMIZERS,
    PRECISIONS,
    SCHEDULES,
    SECTIONS,
    SEED_LIMIT,
    Recipe,
    TrainSettings,
)
from modelzoo.registry import check_arguments, did_you_mean, factory_parameters, list_models
from modelzoo.storage import MODEL_FOLDER_RULE, is_model_folder_name
from modelzoo.targets import targets_from
from modelzoo.words import plural


@dataclass(frozen=True)
class Origins:
    """Where a document's values came from: the file (its text gives line numbers), or the command
    line: `overridden` fields were given there, by `--set` unless `options` names the option
    ("train.learning_rate": "--learning-rate")."""

    path: Path
    text: str
    overridden: frozenset[str] = frozenset()
    options: Mapping[str, str] = field(default_factory=dict)

    def source(self, field_name: str) -> Source:
        """The source of `field_name` ("train.epochs", or a top-level key such as "description")."""
        if field_name in self.options:
            return Source(option=self.options[field_name])
        if field_name in self.overridden:
            return Source(self.path, option="--set")
        section, _, key = field_name.rpartition(".")
        return Source(self.path, _line(self.text, section or None, key))

    def fail(self, field_name: str, problem: str) -> RecipeError:
        """The error for `problem` with `field_name`, naming where its value came from."""
        return RecipeError(problem, field=field_name, source=self.source(field_name))


def _line(text: str, section: str | None, key: str) -> int | None:
    """The line of `key` inside [section] (None: at the top), or None if it is not in the text."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return number
    return None


def resolve(document: dict[str, Any], origins: Origins, name: str) -> Recipe:
    """The checked recipe of `document`, or the RecipeError of its first problem."""
    fail = origins.fail
    _check_layout(document, fail)
    model, model_args = _model(document["model"], fail)
    data, max_examples = _data(document["data"], fail)
    train = _train(document.get("train", {}), model, model_args, data, fail)
    augment = _augment(document, data, fail)
    export_name, weights_tag = _export(document["export"], fail)
    export_formats = _export_formats(document["export"], model, fail)
    publish = _publish(document, train, fail)
    predict_inputs = _predict(document, data, fail)
    targets, problems = targets_from(document.get("targets", {}))
    for key, problem in problems:
        raise fail(f"targets.{key}", problem)
    description = document.get("description", "")
    if not isinstance(description, str):
        raise fail("description", "must be a string")
    return Recipe(
        name=name,
        description=description,
        model=model,
        model_args=model_args,
        data=data,
        train=train,
        export_name=export_name,
        max_examples=max_examples,
        source=str(origins.path),
        weights_tag=weights_tag,
        export_formats=export_formats,
        augment=augment,
        publish=publish,
        predict_inputs=predict_inputs,
        targets=targets,
    )


def _check_layout(document: dict[str, Any], fail) -> None:
    """Known sections with known fields; [model], [data] and [export] each name something."""
    for key, value in document.items():
        if key == "description":
            continue
        if key not in SECTIONS:
            raise fail(
                key,
                f"unknown field{did_you_mean(key, SECTIONS)}; a recipe has description and the "
                f"sections [{'], ['.join(SECTIONS)}]",
            )
        if not isinstance(value, dict):
            raise fail(key, "must be a section: [" + key + "]")
        allowed = SECTIONS[key]
        for field_name in value:
            if allowed is not None and field_name != "name" and field_name not in allowed:
                raise fail(
                    f"{key}.{field_name}",
                    f"unknown field{did_you_mean(field_name, allowed)}; [{key}] takes {', '.join(allowed)}",
                )
    for section in ("model", "data", "export"):
        if "name" not in document.get(section, {}):
            raise fail(f"{section}.name", f"missing: [{section}] needs a name")
    for section in ("model", "data", "export"):
        if not isinstance(document[section]["name"], str):
            raise fail(f"{section}.name", f"must be a string, got {document[section]['name']!r}")


def _model(section: dict[str, Any], fail) -> tuple[str, dict[str, Any]]:
    """The model's name and its factory arguments (lists as tuples), checked without TensorFlow."""
    model_args = dict(section)
    model = model_args.pop("name")
    if model not in list_models():
        raise fail(
            "model.name", f"unknown model {model!r}{did_you_mean(str(model), list_models())}"
        )
    model_args = {k: tuple(v) if isinstance(v, list) else v for k, v in model_args.items()}
    accepted = [*factory_parameters(model), "weights"]
    for key in model_args:
        if key not in accepted:
            raise fail(
                f"model.{key}",
                f"{model} takes no {key!r}{did_you_mean(key, accepted)}; it takes {', '.join(accepted)}",
            )
    try:
        check_arguments(model, **model_args)
    except UsageError as error:
        raise fail(f"model.{error.field or 'name'}", error.problem) from None
    return model, model_args


def _data(section: dict[str, Any], fail) -> tuple[str, int | None]:
    """The data set's name and the examples per split to keep (None: all)."""
    name = section["name"]
    if name not in data_module.DATASETS:
        raise fail(
            "data.name",
            f"unknown data set {name!r}{did_you_mean(str(name), data_module.DATASETS)}",
        )
    max_examples = section.get("max_examples")
    if max_examples is not None and (not checks.is_int(max_examples) or max_examples < 1):
        raise fail("data.max_examples", f"must be a positive integer, got {max_examples!r}")
    if max_examples is not None and max_examples > MAX_COUNT:
        raise fail("data.max_examples", f"must be at most {MAX_COUNT}, got {max_examples!r}")
    return name, max_examples


def _train(
    section: dict[str, Any], model: str, model_args: dict[str, Any], data: str, fail
) -> TrainSettings:
    """[train], each value checked, and a loss that fits the model's output and the data."""
    section = dict(section)
    if "loss" not in section:
        raise fail("train.loss", f"missing: choose one of {', '.join(LOSSES)}")
    if "metrics" in section and isinstance(section["metrics"], list):
        section["metrics"] = tuple(section["metrics"])
    train = TrainSettings(**section)
    for key, problem in _train_problems(train):
        raise fail(f"train.{key}", problem)
    mismatch = loss_problem(train.loss, model, model_args, data)
    if mismatch:
        raise fail(*mismatch)
    return train


def _train_problems(train: TrainSettings):
    """(field, problem) for every value of [train] that cannot work."""
    if train.loss not in LOSSES:
        yield (
            "loss",
            f"unknown loss {train.loss!r}{did_you_mean(str(train.loss), LOSSES)}; choose from {', '.join(LOSSES)}",
        )
    if train.optimizer not in OPTIMIZERS:
        yield (
            "optimizer",
            f"unknown optimizer {train.optimizer!r}; choose from {', '.join(OPTIMIZERS)}",
        )
    if not checks.is_finite_number(train.learning_rate) or train.learning_rate <= 0:
        yield "learning_rate", f"must be a finite number > 0, got {train.learning_rate!r}"
    if train.schedule not in SCHEDULES:
        yield "schedule", f"must be one of {', '.join(SCHEDULES)}, got {train.schedule!r}"
    if train.precision not in PRECISIONS:
        yield "precision", f"must be one of {', '.join(PRECISIONS)}, got {train.precision!r}"
    if not checks.is_finite_number(train.warmup_epochs) or train.warmup_epochs < 0:
        yield "warmup_epochs", f"must be a finite number >= 0, got {train.warmup_epochs!r}"
    elif checks.is_int(train.epochs) and train.warmup_epochs >= train.epochs > 0:
        yield (
            "warmup_epochs",
            f"must be less than train.epochs ({train.epochs}), got {train.warmup_epochs!r}",
        )
    if not checks.is_finite_number(train.ema_momentum) or not 0 <= train.ema_momentum < 1:
        yield (
            "ema_momentum",
            f"must be a number in [0, 1) (0: no moving average), got {train.ema_momentum!r}",
        )
    if not isinstance(train.metrics, tuple) or not all(m in METRICS for m in train.metrics):
        yield "metrics", f"must be a list drawn from {', '.join(METRICS)}, got {train.metrics!r}"
    for key, low, high in (
        ("batch_size", 1, MAX_COUNT),
        ("epochs", 1, MAX_COUNT),
        ("steps_per_execution", 1, MAX_COUNT),
        ("early_stopping_patience", 0, MAX_COUNT),
        ("seed", 0, SEED_LIMIT - 1),
    ):
        value = getattr(train, key)
        if not checks.is_int(value) or value < low:
            yield (
                key,
                f"must be {'a positive integer' if low else 'an integer >= 0'}, got {value!r}",
            )
        elif value > high:
            yield (
                key,
                f"must be at most {high}{' (2**32 - 1)' if key == 'seed' else ''}, got {value!r}",
            )
    if not isinstance(train.refit, bool):
        yield "refit", f"must be true or false, got {train.refit!r}"


def _no_name(section: str, values: dict[str, Any], fail) -> None:
    """[augment], [publish] and [predict] have no name."""
    if "name" in values:
        raise fail(
            f"{section}.name", f"unknown field; [{section}] takes {', '.join(SECTIONS[section])}"
        )


def _augment(document: dict[str, Any], data: str, fail) -> Augmentation | None:
    """[augment] (image data only), each value checked on its own, or None."""
    if "augment" not in document:
        return None
    section = document["augment"]
    _no_name("augment", section, fail)
    for key, value in section.items():
        try:
            Augmentation(**{key: value})
        except UsageError as error:
            raise fail(f"augment.{key}", error.problem) from None
    if len(data_module.DATASETS[data].input.shape) != 4:
        raise fail(
            f"augment.{next(iter(section), 'rotation')}",
            f"augmentation changes images; {data} has feature rows: remove [augment]",
        )
    return Augmentation(**section)


def _export_formats(section: dict[str, Any], model: str, fail) -> tuple[str, ...]:
    """The formats a run publishes: [export] formats, a list of registered export format names."""
    from modelzoo import exporters

    formats = section.get("formats", [exporters.SAVED_MODEL])
    if not isinstance(formats, list) or not all(isinstance(f, str) for f in formats):
        raise fail("export.formats", f"must be a list of format names, got {formats!r}")
    try:
        return exporters.supported_formats(exporters.parse_formats(formats), model)
    except UsageError as error:
        raise fail("export.formats", str(error).removeprefix("--format: ")) from None


def _export(section: dict[str, Any], fail) -> tuple[str, str | None]:
    """The export folder's name and the tag of the weights it ships as (None: the data set's)."""
    export_name = section["name"]
    if not is_model_folder_name(export_name):
        raise fail("export.name", f"{MODEL_FOLDER_RULE}, got {export_name!r}")
    weights_tag = section.get("weights_tag")
    if weights_tag is not None and (
        not isinstance(weights_tag, str) or not re.fullmatch(r"[A-Za-z0-9_]+", weights_tag)
    ):
        raise fail(
            "export.weights_tag",
            f"must be a tag of letters, digits and '_', got {weights_tag!r}",
        )
    return export_name, weights_tag


def _publish(document: dict[str, Any], train: TrainSettings, fail) -> gate.PublishSettings:
    """The [publish] gate, its metric one the recipe measures."""
    _no_name("publish", document.get("publish", {}), fail)
    publish, problems = gate.settings_from(
        document.get("publish", {}), train.metrics if isinstance(train.metrics, tuple) else ()
    )
    for key, problem in problems:
        raise fail(f"publish.{key}", problem)
    return publish


def _predict(document: dict[str, Any], data: str, fail) -> tuple[tuple[float, ...], ...]:
    """[predict] inputs: feature rows as wide as the data set's, or () without the section."""
    section = document.get("predict", {})
    _no_name("predict", section, fail)
    if "inputs" not in section:
        return ()
    rows, problem = _predict_inputs(section["inputs"], data_module.DATASETS[data])
    if problem:
        raise fail("predict.inputs", problem)
    return rows


def _predict_inputs(
    rows: Any, spec: data_module.DatasetSpec
) -> tuple[tuple[tuple[float, ...], ...], str | None]:
    """[predict] inputs as rows of floats, or a problem: a list of feature rows the data set's width."""
    if len(spec.input.shape) != 2:
        return (
            (),
            f"takes feature rows; {spec.name} has {spec.input.dtype} images of shape {list(spec.input.shape[1:])}",
        )
    width = spec.input.shape[1]
    example = f"e.g. inputs = [[{', '.join(['1.0'] * width)}]]"
    if not isinstance(rows, (list, tuple)) or not all(
        isinstance(row, (list, tuple)) for row in rows
    ):
        return (), f"must be a list of feature rows, {example}; got {rows!r}"
    for row in rows:
        if len(row) != width or not all(checks.is_finite_number(value) for value in row):
            return (
                (),
                f"each row must be {plural(width, 'finite number')} (the features of {spec.name}), "
                f"{example}; got {list(row)!r}",
            )
    return tuple(tuple(float(value) for value in row) for row in rows), None
