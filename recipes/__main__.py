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
from modelzoo.recipes.options import (
    data_options,
    output_options,
    override_options,
    overrides,
    parse_sets,
    placement_options,
)

from modelzoo import distribute, hardware
from modelzoo import recipe_file as recipes
from modelzoo.cli import Group, echo_table
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
        return
    candidate = publish and publish["decision"] == "candidate"
    click.echo(
        f"SavedModel: {result.export_path}{' (a candidate: not published)' if candidate else ''}"
    )
    from modelzoo import exporters

    for line in exporters.describe_formats(result.export_path):
        click.echo(line)


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
    formats,
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
    resolved = with_formats(recipes.load(recipe, *overrides(params)), formats)
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


def with_formats(recipe, formats: str | None):
    """The recipe publishing `formats` ("savedmodel,onnx", from --format) instead of its own."""
    if formats is None:
        return recipe
    import dataclasses

    from modelzoo import exporters

    chosen = exporters.supported_formats(exporters.parse_formats(formats), recipe.model)
    return dataclasses.replace(recipe, export_formats=chosen)


def _prepare_sweep(
    recipe, grids, random_trials, params, strategy, cpu_replicas, sweep_dir, fresh, export_dir
):
    """The sweep's search space, placement and folder, every argument checked before TensorFlow."""
    from modelzoo import sweep

    values, options = overrides(params)
    space = sweep.make_space(recipe, list(grids), values, random_trials, options=options)
    placement = distribute.Placement.parse(strategy, cpu_replicas)
    if placement.strategy == "multi-worker":
        raise UsageError(
            "sweep runs its trials one after another in one process; use --strategy default or mirrored"
        )
    if export_dir is not None:  # the winner is exported after the trials: find a bad folder now
        from modelzoo.export import check_export_dir

        check_export_dir(export_dir, space.base.export_name)
    folder = Path(sweep_dir) if sweep_dir else sweep.sweep_dir(space)
    if (folder / "winner" / "metrics.json").exists() and not fresh:
        raise UsageError(
            f"the sweep in {folder} has finished (its winner: {folder / 'winner'}); add --fresh to run it again"
        )
    return space, placement, folder


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
    formats,
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

    space, placement, folder = _prepare_sweep(
        recipe,
        grids,
        random_trials,
        params,
        strategy,
        cpu_replicas,
        sweep_dir,
        fresh,
        None if no_export else export_dir,
    )
    with_formats(space.base, formats)  # a bad --format fails before any trial
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
    winner = _echo_trials(space, trials, folder)
    result = training.run(
        with_formats(space.recipe_for(winner.values), formats),
        run_dir=folder / "winner",
        export_dir=None if no_export else export_dir,
        mirror=data_mirror,
        data_dir=data_dir,
        echo=click.echo,
        placement=placement,
        publish_anyway=publish_anyway,
    )
    _echo_result(result)


def _echo_trials(space, trials, folder: Path):
    """Why trials failed, the table and the plot's path; the winner, which is announced."""
    from modelzoo import sweep

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
    return winner


@main.command("list")
def list_command() -> None:
    """The recipes (built-in, then $MODELZOO_RECIPES_PATH): model, data set, last measured test metric."""
    measured = recipes.measured_results()
    rows = [("recipe", "model", "data", "measured test result")]
    for name in recipes.recipe_names():
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
    resolved = recipes.load(recipe, parse_sets(sets))
    shown = {**resolved.to_dict(), "publish": resolved.publish.to_dict()}
    if resolved.predict_inputs:
        shown["predict"] = {"inputs": [list(row) for row in resolved.predict_inputs]}
    click.echo(json.dumps(shown, indent=2))


if __name__ == "__main__":
    hardware.prefer_onednn()  # as the `modelzoo` command does (modelzoo.cli.main)
    sys.exit(main(prog_name="python -m modelzoo.recipes"))
