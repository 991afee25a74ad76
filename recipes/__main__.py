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
from pathlib import Path

import click

from modelzoo import distribute
from modelzoo import recipe_file as recipes
from modelzoo.cli import Group, data_mirror_option, echo_table
from modelzoo.errors import UsageError
from modelzoo.quiet import quiet_tensorflow, verbose_option
from modelzoo.words import plural


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
    python -m modelzoo.recipes sweep NAME --grid F=V1,V2  choose values on the dev split
    """


def _parse_sets(values: tuple[str, ...]) -> dict[str, object]:
    overrides = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(
                f"{item!r} is not key=value, e.g. train.epochs=3", param_hint="--set"
            )
        overrides[key.strip()] = recipes.parse_value(value.strip())
    return overrides


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
        return click.option(
            "--export-dir",
            type=click.Path(file_okay=False),
            default="saved_models",
            show_default=True,
            help=f"Where {model}'s versioned SavedModel goes.",
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


def _overrides(params: dict) -> dict[str, object]:
    """The --set values and the shorthand options, as recipe overrides."""
    overrides = _parse_sets(params["sets"])
    for key, option in [
        ("train.epochs", "epochs"),
        ("train.batch_size", "batch_size"),
        ("train.learning_rate", "learning_rate"),
        ("train.seed", "seed"),
        ("model.l2", "l2"),
        ("data.max_examples", "max_examples"),
    ]:
        if params[option] is not None:
            overrides[key] = params[option]
    return overrides


def _echo_result(result) -> None:
    test = result.metrics["test"]
    name = result.metrics["recipe"]
    shown = ", ".join(f"{k} {recipes.format_metric(k, v)}" for k, v in test.items())
    epochs = plural(result.metrics["epochs_run"], "epoch")
    if "refit" in result.metrics:
        epochs += f", then {result.metrics['refit']['epochs']} on train + dev"
    click.echo(
        f"{name}: test {shown} ({epochs}, "
        f"{result.metrics['train_seconds_this_process']:.1f} s of training)"
    )
    if "weights" in result.metrics:
        click.echo(f"{name}: learned weights {json.dumps(result.metrics['weights'])}")
    for prediction in result.metrics.get("predictions", []):
        features, (key, values) = (
            prediction["input"],
            next((k, v) for k, v in prediction.items() if k != "input"),
        )
        click.echo(
            f"{name}: at features {features} the model gives {key} {[round(v, 4) for v in values]}"
        )
    click.echo(f"run folder: {result.run_dir}")
    publish = result.metrics.get("publish")
    if publish:
        from modelzoo import gate

        click.echo(gate.summary(publish, result.export_path))
    if result.export_path is None:
        click.echo("SavedModel: not exported")
    elif publish and publish["decision"] == "candidate":
        click.echo(f"SavedModel: {result.export_path} (a candidate: not published)")
    else:
        click.echo(f"SavedModel: {result.export_path}")


@main.command("run")
@verbose_option
@click.argument("recipe")
@override_options
@click.option(
    "--run-dir", type=click.Path(file_okay=False), help="Run folder (default: runs/NAME/TIMESTAMP)."
)
@output_options(model="the model", resumed="an interrupted run")
@placement_options
@data_options
def run_command(
    recipe,
    run_dir,
    export_dir,
    no_export,
    publish_anyway,
    fresh,
    strategy,
    cpu_replicas,
    data_mirror,
    data_dir,
    **params,
) -> None:
    """Train RECIPE (a built-in name or a .toml file), evaluate it on the test split, export it."""
    resolved = recipes.load(recipe, _overrides(params))
    placement = distribute.Placement.parse(strategy, cpu_replicas)

    quiet_tensorflow()
    from modelzoo import training

    if note := placement.note():
        click.echo(note)
    result = training.run(
        resolved,
        run_dir=run_dir,
        export_dir=None if no_export else export_dir,
        fresh=fresh,
        mirror=data_mirror,
        data_dir=data_dir,
        echo=click.echo,
        placement=placement,
        publish_anyway=publish_anyway,
    )
    _echo_result(result)


@main.command("sweep")
@verbose_option
@click.argument("recipe")
@click.option(
    "--grid",
    "grids",
    multiple=True,
    metavar="FIELD=V1,V2,...",
    help="Values to try for a recipe field, e.g. --grid hidden_units=32,64,128 (repeatable; "
    "a bare name means the [train] field of that name, else the model's).",
)
@click.option(
    "--random",
    "random_trials",
    type=int,
    default=None,
    metavar="N",
    help="Try N combinations drawn at random (seeded) instead of the whole grid.",
)
@override_options
@click.option(
    "--sweep-dir",
    type=click.Path(file_okay=False),
    help="Where trials and results go (default: runs/NAME/sweep-<hash of the search>).",
)
@output_options(model="the winner", resumed="the search")
@placement_options
@data_options
def sweep_command(
    recipe,
    grids,
    random_trials,
    sweep_dir,
    export_dir,
    no_export,
    publish_anyway,
    fresh,
    strategy,
    cpu_replicas,
    data_mirror,
    data_dir,
    **params,
) -> None:
    """Try values of recipe fields on the dev split, keep the best, test and export it.

    \b
    python -m modelzoo.recipes sweep mnist --grid hidden_units=32,64,128
    python -m modelzoo.recipes sweep mnist --grid hidden_units=64,128,256 --grid learning_rate=1e-3,3e-3 --random 4
    """
    from modelzoo import sweep

    space = sweep.make_space(recipe, list(grids), _overrides(params), random_trials)
    placement = distribute.Placement.parse(strategy, cpu_replicas)
    if placement.strategy == "multi-worker":
        raise UsageError(
            "sweep runs its trials one after another in one process; use --strategy default or mirrored"
        )
    if not no_export:  # the winner is exported after all the trials: find a bad folder first
        from modelzoo.export import check_export_dir

        check_export_dir(export_dir, space.base.export_name)
    folder = Path(sweep_dir) if sweep_dir else sweep.sweep_dir(space)
    finished_winner = folder / "winner" / "metrics.json"
    if finished_winner.exists() and not fresh:
        raise UsageError(
            f"the sweep in {folder} has finished (its winner: {folder / 'winner'}); add --fresh to run it again"
        )

    quiet_tensorflow()
    from modelzoo import training

    if note := placement.note():
        click.echo(note)
    metric, direction = space.objective
    click.echo(
        f"sweep {space.base.name}: {plural(space.trials, 'trial')} of {plural(space.grid_size, 'combination')}, "
        f"chosen by dev {metric} ({direction}); folder {folder}"
    )
    trials = sweep.search(
        space,
        folder,
        mirror=data_mirror,
        data_dir=data_dir,
        fresh=fresh,
        echo=click.echo,
        placement=placement,
    )
    for trial in trials:
        if trial.message:
            click.echo(
                f"trial {trial.trial_id} ({sweep.describe_values(trial.values)}) "
                f"{trial.status.lower()}: {trial.message}"
            )
    rows, winner = sweep.report(space, trials, folder)
    echo_table(rows)
    click.echo(f"plot: {folder / sweep.PLOT_FILE}")
    click.echo(
        f"winner: trial {winner.trial_id}, {sweep.describe_values(winner.values)}; training it again to test and export"
    )
    result = training.run(
        space.recipe_for(winner.values),
        run_dir=folder / "winner",
        export_dir=None if no_export else export_dir,
        mirror=data_mirror,
        data_dir=data_dir,
        echo=click.echo,
        placement=placement,
        publish_anyway=publish_anyway,
    )
    _echo_result(result)


@main.command("list")
def list_command() -> None:
    """The built-in recipes: model, data set and last measured test metric."""
    measured = recipes.measured_results()
    rows = [("recipe", "model", "data", "measured test result")]
    for name in recipes.builtin_names():
        r = recipes.load(name)
        rows.append(
            (name, r.model, r.data, measured.get(name, {}).get("summary", "not measured yet"))
        )
    echo_table(rows)


@main.command("show")
@click.argument("recipe")
@click.option(
    "--set", "sets", multiple=True, metavar="SECTION.FIELD=VALUE", help="Override a field first."
)
def show_command(recipe: str, sets: tuple[str, ...]) -> None:
    """Print RECIPE resolved (after --set overrides), as JSON."""
    resolved = recipes.load(recipe, _parse_sets(sets))
    shown = {**resolved.to_dict(), "publish": resolved.publish.to_dict()}
    if resolved.predict_inputs:
        shown["predict"] = {"inputs": [list(row) for row in resolved.predict_inputs]}
    click.echo(json.dumps(shown, indent=2))


if __name__ == "__main__":
    sys.exit(main(prog_name="python -m modelzoo.recipes"))
