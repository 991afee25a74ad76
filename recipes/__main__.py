"""`python -m modelzoo.recipes`: train, evaluate and export zoo models by recipe.

    python -m modelzoo.recipes mnist                 # the main job
    python -m modelzoo.recipes path/to/mine.toml --epochs 3 --set model.hidden_units=128
    python -m modelzoo.recipes list | show NAME

Everything up to the training itself (options, recipe file, values) is checked before
TensorFlow is imported: a mistake costs a fraction of a second and one line.
"""

from __future__ import annotations

import json
import sys

import click

from modelzoo import recipe as recipes
from modelzoo.cli import Group, data_mirror_option, echo_table, quiet_tensorflow


class RecipeGroup(Group):
    """`python -m modelzoo.recipes NAME ...` means `... run NAME ...`."""

    def resolve_command(self, ctx: click.Context, args: list[str]):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


@click.group(cls=RecipeGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Train, evaluate and export zoo models by recipe.

    \b
    python -m modelzoo.recipes NAME|FILE.toml [OPTIONS]   train (see: run --help)
    python -m modelzoo.recipes list                       the built-in recipes
    python -m modelzoo.recipes show NAME                  a resolved recipe
    """


def _parse_sets(values: tuple[str, ...]) -> dict[str, object]:
    overrides = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{item!r} is not key=value, e.g. train.epochs=3", param_hint="--set")
        overrides[key.strip()] = recipes.parse_value(value.strip())
    return overrides


@main.command("run")
@click.argument("recipe")
@click.option("--epochs", type=click.IntRange(min=1), help="Passes over the training split.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Examples per gradient step.")
@click.option("--learning-rate", type=float, help="The optimizer's (initial) learning rate.")
@click.option("--seed", type=click.IntRange(min=0), help="Seeds weights, shuffling and dropout.")
@click.option("--l2", type=click.FloatRange(min=0), help="L2 penalty lambda on every kernel.")
@click.option("--max-examples", type=click.IntRange(min=1), help="Use only the first N examples of each split.")
@click.option("--set", "sets", multiple=True, metavar="SECTION.FIELD=VALUE",
              help="Override any recipe field, e.g. --set model.hidden_units=128 (repeatable).")
@click.option("--run-dir", type=click.Path(file_okay=False), help="Run folder (default: runs/NAME/TIMESTAMP).")
@click.option("--export-dir", type=click.Path(file_okay=False), default="saved_models", show_default=True,
              help="Where the versioned SavedModel goes.")
@click.option("--no-export", is_flag=True, help="Train and evaluate only.")
@click.option("--fresh", is_flag=True, help="Start over instead of resuming an interrupted run.")
@data_mirror_option
@click.option("--data-dir", type=click.Path(file_okay=False), help="tfds data dir (default: $TFDS_DATA_DIR).")
def run_command(recipe, epochs, batch_size, learning_rate, seed, l2, max_examples, sets, run_dir, export_dir,
                no_export, fresh, data_mirror, data_dir) -> None:
    """Train RECIPE (a built-in name or a .toml file), evaluate it on the test split, export it."""
    overrides = _parse_sets(sets)
    for key, value in [("train.epochs", epochs), ("train.batch_size", batch_size),
                       ("train.learning_rate", learning_rate), ("train.seed", seed), ("model.l2", l2),
                       ("data.max_examples", max_examples)]:
        if value is not None:
            overrides[key] = value
    resolved = recipes.load(recipe, overrides)

    quiet_tensorflow()
    from modelzoo import training

    result = training.run(
        resolved,
        run_dir=run_dir,
        export_dir=None if no_export else export_dir,
        fresh=fresh,
        mirror=data_mirror,
        data_dir=data_dir,
        echo=click.echo,
    )
    test = result.metrics["test"]
    shown = ", ".join(f"{k} {_format(k, v)}" for k, v in test.items())
    click.echo(f"{resolved.name}: test {shown} ({result.metrics['epochs_run']} epochs, "
               f"{result.metrics['train_seconds_this_process']:.1f} s of training)")
    if "weights" in result.metrics:
        click.echo(f"{resolved.name}: learned weights {json.dumps(result.metrics['weights'])}")
    click.echo(f"run folder: {result.run_dir}")
    click.echo(f"SavedModel: {result.export_path}" if result.export_path else "SavedModel: not exported (--no-export)")


def _format(metric: str, value: float) -> str:
    return f"{value:.2%}" if "accuracy" in metric else f"{value:.4f}"


@main.command("list")
def list_command() -> None:
    """The built-in recipes: model, data set and last measured test metric."""
    measured = recipes.measured_results()
    rows = [("recipe", "model", "data", "measured test result")]
    for name in recipes.builtin_names():
        r = recipes.load(name)
        rows.append((name, r.model, r.data, measured.get(name, {}).get("summary", "not measured yet")))
    echo_table(rows)


@main.command("show")
@click.argument("recipe")
@click.option("--set", "sets", multiple=True, metavar="SECTION.FIELD=VALUE", help="Override a field first.")
def show_command(recipe: str, sets: tuple[str, ...]) -> None:
    """Print RECIPE resolved (after --set overrides), as JSON."""
    click.echo(json.dumps(recipes.load(recipe, _parse_sets(sets)).to_dict(), indent=2))


if __name__ == "__main__":
    sys.exit(main(prog_name="python -m modelzoo.recipes"))
