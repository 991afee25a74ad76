"""Choose hyperparameters on the dev split: a grid or random search over recipe fields (KerasTuner).

    python -m modelzoo.recipes sweep mnist --grid hidden_units=32,64,128 --grid learning_rate=1e-3,3e-3
    python -m modelzoo.recipes sweep mnist --grid hidden_units=32,64,128,256 --random 3

Each trial is an ordinary run of the recipe with the trial's values (same seed, so only the
values differ), without the test split and without export; its score is the dev metric
(accuracy where the recipe measures it, else the loss). KerasTuner's oracle proposes the trials
and keeps their state in the sweep folder, so the same command after a crash skips the finished
trials, and an interrupted trial resumes from its last finished epoch. At the end: a table and
`sweep.png` (the dev metric against each parameter), then the winner is trained once more as a
normal run (deterministic: the same model as its trial), evaluated once on the test split and
exported.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import shutil
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelzoo import recipe_file as recipes
from modelzoo.errors import UsageError
from modelzoo.recipe_file import Recipe, RecipeError
from modelzoo.words import plural

SWEEP_FILE = "sweep.json"
PLOT_FILE = "sweep.png"


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
        return recipes.load(self.base.source, {**self.overrides, **values})

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


def make_space(
    name_or_path: str,
    grids: list[str],
    overrides: dict[str, Any] | None = None,
    random_trials: int | None = None,
) -> SearchSpace:
    """Check the recipe, every --grid value (each one as a recipe override) and the trial budget; no TensorFlow."""
    overrides = dict(overrides or {})
    base = recipes.load(name_or_path, overrides)
    if not grids:
        raise UsageError(
            "sweep: give at least one --grid FIELD=V1,V2,..., e.g. --grid hidden_units=32,64,128"
        )
    parameters = tuple(parse_grid(text, base) for text in grids)
    fields = [p.field for p in parameters]
    if len(set(fields)) != len(fields):
        raise UsageError(f"sweep: a field is given twice in --grid ({', '.join(fields)})")
    for parameter in parameters:
        for value in parameter.values:
            try:
                recipes.load(name_or_path, {**overrides, parameter.field: value})
            except RecipeError as error:
                raise UsageError(
                    f"--grid {parameter.label}={value!r}: {str(error).split(': ', 1)[-1]}"
                ) from None
    if random_trials is not None and random_trials < 1:
        raise UsageError(f"--random must be a positive number of trials, got {random_trials}")
    return SearchSpace(base, overrides, parameters, random_trials)


def sweep_dir(space: SearchSpace, runs_root: str | os.PathLike = "runs") -> Path:
    """runs/<recipe>/sweep-<fingerprint>: found again by the same command, so a rerun resumes."""
    return Path(runs_root) / space.base.name / f"sweep-{space.fingerprint()}"


@dataclass
class Trial:
    """One finished (or failed) trial as the report shows it."""

    trial_id: str
    values: dict[str, Any]
    score: float | None
    status: str
    epochs: int | None = None
    message: str = ""


def search(
    space: SearchSpace,
    folder: Path,
    *,
    mirror=None,
    data_dir=None,
    fresh: bool = False,
    echo: Callable[[str], None] = print,
    placement=None,
) -> list[Trial]:
    """Run the trials that are not finished yet (KerasTuner keeps the state in `folder`); return them all."""
    import keras_tuner

    from modelzoo import run_folder, training

    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metric, direction = space.objective
    objective = keras_tuner.Objective(f"val_{metric}", direction)
    hyperparameters = keras_tuner.HyperParameters()
    for parameter in space.parameters:
        hyperparameters.Choice(
            parameter.label, [_encode(v) for v in parameter.values], ordered=False
        )
    oracle_kwargs = dict(
        objective=objective,
        hyperparameters=hyperparameters,
        seed=space.base.train.seed,
        max_trials=space.trials,
    )
    oracle = (
        keras_tuner.oracles.RandomSearchOracle(**oracle_kwargs)
        if space.random_trials
        else _resumable_grid_oracle()(**oracle_kwargs)
    )
    by_label = {p.label: p for p in space.parameters}

    class RecipeTuner(keras_tuner.engine.base_tuner.BaseTuner):
        """Each trial: a normal run of the recipe with the trial's values, scored on dev."""

        def run_trial(self, trial, *args, **kwargs):
            values = {
                by_label[k].field: _decode(v) for k, v in trial.hyperparameters.values.items()
            }
            number = len([t for t in self.oracle.trials.values() if t.status == "COMPLETED"]) + 1
            run_dir = folder / "trials" / trial.trial_id
            if (
                run_dir / run_folder.METRICS_FILE
            ).exists():  # finished, but the search stopped before recording it
                metrics = json.loads((run_dir / run_folder.METRICS_FILE).read_text())
            else:
                echo(
                    f"trial {trial.trial_id} ({number} of {space.trials}): {describe_values(values)}"
                )
                metrics = training.run(
                    space.recipe_for(values),
                    run_dir=run_dir,
                    mirror=mirror,
                    data_dir=data_dir,
                    evaluate_test=False,
                    echo=echo,
                    placement=placement,
                ).metrics
            score = metrics["dev"][metric]
            echo(
                f"trial {trial.trial_id}: dev {metric} {recipes.format_metric(metric, score)} "
                f"after {plural(metrics['epochs_run'], 'epoch')}"
            )
            return {f"val_{metric}": score}

        def save_model(self, trial_id, model, step=0):
            """Trials keep no model: the winner is retrained deterministically."""

        def load_model(self, trial):
            raise NotImplementedError("the winner is retrained by modelzoo.sweep, not loaded")

    tuner = RecipeTuner(oracle, directory=str(folder), project_name="tuner", overwrite=False)
    done = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
    if done:
        echo(f"resuming the sweep in {folder}: {done} of {space.trials} trials already finished")
    tuner.search(verbose=0)
    return collect(tuner.oracle, space, folder)


def _resumable_grid_oracle():
    """KerasTuner's GridSearchOracle, able to continue after a reload.

    KerasTuner 1.4 does not save the grid oracle's order of tried combinations, so a reloaded
    grid search fails on its next trial; rebuilding it from the recorded trials lets the search
    go on where it stopped.
    """
    import functools

    import keras_tuner

    class ResumableGridSearchOracle(keras_tuner.oracles.GridSearchOracle):
        def set_state(self, state):
            super().set_state(state)
            self._ordered_ids = type(self._ordered_ids)()
            by_grid_order = functools.cmp_to_key(
                lambda a, b: self._compare(
                    self.trials[a].hyperparameters.values, self.trials[b].hyperparameters.values
                )
            )
            for trial_id in sorted(self.start_order, key=by_grid_order):
                self._ordered_ids.insert(trial_id)
            self._populate_next = list(
                self.start_order
            )  # each one's successor is made once, if not tried yet

    return ResumableGridSearchOracle


def collect(oracle, space: SearchSpace, folder: Path) -> list[Trial]:
    """Every trial the oracle knows, with its dev score, in the order they were made."""
    by_label = {p.label: p for p in space.parameters}
    metric = f"val_{space.objective[0]}"
    trials = []
    for trial_id, trial in sorted(oracle.trials.items()):
        score = trial.metrics.get_best_value(metric) if trial.metrics.exists(metric) else None
        history = folder / "trials" / trial_id / "metrics.json"
        epochs = json.loads(history.read_text()).get("epochs_run") if history.exists() else None
        values = {
            by_label[k].field: _decode(v)
            for k, v in trial.hyperparameters.values.items()
            if k in by_label
        }
        reason = (
            (trial.message or "").strip().splitlines()[-1:] if trial.status != "COMPLETED" else []
        )
        trials.append(Trial(trial_id, values, score, str(trial.status), epochs, "".join(reason)))
    return trials


def best(trials: list[Trial], direction: str) -> Trial:
    finished = [t for t in trials if t.status == "COMPLETED" and t.score is not None]
    if not finished:
        raise UsageError("sweep: no trial finished; see the messages above")
    return (max if direction == "max" else min)(finished, key=lambda t: t.score)


def report(
    space: SearchSpace, trials: list[Trial], folder: Path
) -> tuple[list[tuple[str, ...]], Trial]:
    """The table rows (header first) and the winner; writes sweep.json and sweep.png into `folder`."""
    metric, direction = space.objective
    winner = best(trials, direction)
    rows = [("trial", *[p.label for p in space.parameters], f"dev {metric}", "epochs", "")]
    for t in trials:
        rows.append(
            (
                t.trial_id,
                *[json.dumps(t.values.get(p.field)) for p in space.parameters],
                recipes.format_metric(metric, t.score) if t.score is not None else t.status.lower(),
                str(t.epochs or ""),
                "<- best" if t is winner else "",
            )
        )
    (folder / SWEEP_FILE).write_text(
        json.dumps(
            {
                "recipe": space.base.name,
                "objective": {"metric": f"dev {metric}", "direction": direction},
                "parameters": {p.field: list(p.values) for p in space.parameters},
                "mode": f"random, {space.random_trials} trials" if space.random_trials else "grid",
                "trials": [dataclasses.asdict(t) for t in trials],
                "winner": dataclasses.asdict(winner),
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    plot(space, trials, folder / PLOT_FILE)
    return rows, winner


def plot(space: SearchSpace, trials: list[Trial], path: Path) -> None:
    """One panel per parameter: every finished trial's dev score against that parameter's value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric, _ = space.objective
    finished = [t for t in trials if t.score is not None]
    figure, axes = plt.subplots(
        1, len(space.parameters), figsize=(4.5 * len(space.parameters), 3.6), squeeze=False
    )
    for axis, parameter in zip(axes[0], space.parameters):
        numeric = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in parameter.values
        )
        labels = [json.dumps(v) for v in parameter.values]
        position = (
            (lambda v: v) if numeric else (lambda v, labels=labels: labels.index(json.dumps(v)))
        )
        axis.scatter(
            [position(t.values[parameter.field]) for t in finished], [t.score for t in finished]
        )
        if (
            numeric
            and min(parameter.values) > 0
            and max(parameter.values) / min(parameter.values) >= 10
        ):
            axis.set_xscale("log")
        if not numeric:
            axis.set_xticks(range(len(labels)), labels)
        axis.set_xlabel(parameter.label)
        axis.set_ylabel(f"dev {metric}")
        axis.grid(alpha=0.3)
    figure.suptitle(f"{space.base.name}: dev {metric} per trial")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def _encode(value: Any) -> Any:
    """KerasTuner's Choice takes scalars: lists travel as their JSON text."""
    return json.dumps(value) if isinstance(value, (list, tuple)) else value


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.startswith("[") else value


def describe_values(values: dict[str, Any]) -> str:
    return " ".join(
        f"{field.split('.', 1)[1]}={json.dumps(value)}" for field, value in values.items()
    )
