"""Running a sweep's trials with KerasTuner: its oracle proposes them and keeps their state in the
sweep folder (so a rerun resumes), each trial an ordinary run of the recipe scored on dev."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelzoo import recipe_file as recipes
from modelzoo.sweep_report import Trial, describe_values
from modelzoo.sweep_space import SearchSpace
from modelzoo.words import plural


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
    if fresh and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tuner_class = _recipe_tuner(
        space, folder, echo, dict(mirror=mirror, data_dir=data_dir, placement=placement)
    )
    tuner = tuner_class(
        _oracle(space), directory=str(folder), project_name="tuner", overwrite=False
    )
    done = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
    if done:
        echo(f"resuming the sweep in {folder}: {done} of {space.trials} trials already finished")
    tuner.search(verbose=0)
    return collect(tuner.oracle, space, folder)


def _oracle(space: SearchSpace):
    """KerasTuner's oracle for the space: random search of `space.trials`, else the whole grid."""
    import keras_tuner

    metric, direction = space.objective
    hyperparameters = keras_tuner.HyperParameters()
    for parameter in space.parameters:
        hyperparameters.Choice(
            parameter.label, [_encode(v) for v in parameter.values], ordered=False
        )
    oracle_kwargs = dict(
        objective=keras_tuner.Objective(f"val_{metric}", direction),
        hyperparameters=hyperparameters,
        seed=space.base.train.seed,
        max_trials=space.trials,
    )
    if space.random_trials:
        return keras_tuner.oracles.RandomSearchOracle(**oracle_kwargs)
    return _resumable_grid_oracle()(**oracle_kwargs)


def _recipe_tuner(space: SearchSpace, folder: Path, echo: Callable[[str], None], run_options):
    """A KerasTuner tuner class whose trials are runs of the recipe (`training.run(**run_options)`)."""
    import keras_tuner

    from modelzoo import run_folder, training

    metric, _ = space.objective
    by_label = {p.label: p for p in space.parameters}

    class RecipeTuner(keras_tuner.engine.base_tuner.BaseTuner):
        """Each trial: a normal run of the recipe with the trial's values, scored on dev."""

        def run_trial(self, trial, *args, **kwargs):
            values = {
                by_label[k].field: _decode(v) for k, v in trial.hyperparameters.values.items()
            }
            number = len([t for t in self.oracle.trials.values() if t.status == "COMPLETED"]) + 1
            run_dir = folder / "trials" / trial.trial_id
            if (run_dir / run_folder.METRICS_FILE).exists():  # finished, but not recorded
                metrics = json.loads((run_dir / run_folder.METRICS_FILE).read_text())
            else:
                echo(
                    f"trial {trial.trial_id} ({number} of {space.trials}): {describe_values(values)}"
                )
                metrics = training.run(
                    space.recipe_for(values),
                    run_dir=run_dir,
                    evaluate_test=False,
                    echo=echo,
                    **run_options,
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

    return RecipeTuner


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


def _encode(value: Any) -> Any:
    """KerasTuner's Choice takes scalars: lists travel as their JSON text."""
    return json.dumps(value) if isinstance(value, (list, tuple)) else value


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) and value.startswith("[") else value
