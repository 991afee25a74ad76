"""The options of `python -m modelzoo.recipes run` and `sweep`, and the recipe values they give.

Each shorthand option (`--epochs`, `--learning-rate`, ...) sets one recipe field, like `--set`;
a bad value is reported as the option (`--learning-rate: must be ...`), a `--set` value as
`NAME.toml, --set: train.learning_rate: ...`.
"""

from __future__ import annotations

from typing import Any

import click

from modelzoo import distribute
from modelzoo import recipe_file as recipes
from modelzoo.commands import data_mirror_option

#: The shorthand options (click's parameter names) and the recipe field each one sets.
SHORTHANDS = (
    ("epochs", "train.epochs"),
    ("batch_size", "train.batch_size"),
    ("learning_rate", "train.learning_rate"),
    ("seed", "train.seed"),
    ("l2", "model.l2"),
    ("max_examples", "data.max_examples"),
)


def parse_sets(values: tuple[str, ...]) -> dict[str, object]:
    """--set SECTION.FIELD=VALUE items as recipe overrides (values parsed as TOML where they are)."""
    overrides = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"{item!r} is not key=value, e.g. train.epochs=3", param_hint="--set"
            )
        overrides[key.strip()] = recipes.parse_value(value.strip())
    return overrides


def overrides(params: dict[str, Any]) -> tuple[dict[str, object], dict[str, str]]:
    """The --set values and the shorthand options as recipe overrides, and the option that gave
    each shorthand's field ("train.learning_rate": "--learning-rate"), for `recipe_file.load`."""
    values = parse_sets(params["sets"])
    options = {}
    for parameter, field in SHORTHANDS:
        if params[parameter] is not None:
            values[field] = params[parameter]
            options[field] = "--" + parameter.replace("_", "-")
    return values, options


def override_options(command):
    """The options that change a recipe's fields, shared by `run` and `sweep`."""
    options = [
        click.option(
            "--epochs", type=click.IntRange(min=1), help="Passes over the training split."
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            help="Examples per gradient step (global, across replicas).",
        ),
        click.option(
            "--learning-rate", type=float, help="The optimizer's (initial) learning rate."
        ),
        click.option(
            "--seed", type=click.IntRange(min=0), help="Seeds weights, shuffling and dropout."
        ),
        click.option(
            "--l2", type=click.FloatRange(min=0), help="L2 penalty lambda on every kernel."
        ),
        click.option(
            "--max-examples",
            type=click.IntRange(min=1),
            help="Use only the first N examples of each split.",
        ),
        click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="SECTION.FIELD=VALUE",
            help="Override any recipe field, e.g. --set model.hidden_units=128 (repeatable).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def placement_options(command):
    """Where to train: --strategy and --cpu-replicas (checked before TensorFlow starts)."""
    command = click.option(
        "--cpu-replicas",
        type=int,
        default=None,
        help="With --strategy mirrored on a machine without GPUs: split the CPU into N devices.",
    )(command)
    return click.option(
        "--strategy",
        type=click.Choice(distribute.STRATEGIES),
        default="default",
        show_default=True,
        help="default: one device; mirrored: all local GPUs (or --cpu-replicas); "
        "multi-worker: the cluster in $TF_CONFIG.",
    )(command)


def output_options(model: str, resumed: str):
    """--export-dir, --no-export and --fresh: `model` names what is exported, `resumed` what --fresh starts over."""

    def decorate(command):
        command = click.option(
            "--fresh", is_flag=True, help=f"Start over instead of resuming {resumed}."
        )(command)
        command = click.option(
            "--no-export", is_flag=True, help=f"Train and test {model} without exporting it."
        )(command)
        command = click.option(
            "--publish-anyway",
            is_flag=True,
            help=f"Publish {model} as the next version even if it misses the recipe's [publish] "
            "target or scores worse than the served version (default: keep it as a candidate).",
        )(command)
        command = click.option(
            "--format",
            "formats",
            metavar="FORMATS",
            help="Export formats, comma-separated, from savedmodel (always written), onnx, litert, "
            "litert-int8; each is checked against Keras before it is published (default: the "
            "recipe's [export] formats).",
        )(command)
        return click.option(
            "--export-dir",
            type=click.Path(file_okay=False),
            default="saved_models",
            show_default=True,
            help=f"Where {model}'s versioned SavedModel goes (other formats: beside it, in "
            "EXPORT_DIR/NAME/formats/VERSION).",
        )(command)

    return decorate


def data_options(command):
    """Where data comes from: --data-mirror and --data-dir."""
    command = click.option(
        "--data-dir",
        type=click.Path(file_okay=False),
        help="tfds data dir (default: $TFDS_DATA_DIR).",
    )(command)
    return data_mirror_option(command)
