"""Run a recipe: load the data, build and compile the model, fit, evaluate, record, export.

A run folder (`runs/<recipe>/<timestamp>/`, `modelzoo.run_folder`) receives the resolved recipe,
`history.csv`, TensorBoard logs, `curves.png` (loss and metrics against the epoch) and
`metrics.json`. A backup (`modelzoo.checkpoint`) is written after every epoch and kept until the
run has exported and written metrics.json: the same command after a crash resumes from the last
finished epoch, or straight at evaluation and export when training had ended, and `fresh=True`
starts over. A run whose loss turns NaN or explodes (`modelzoo.fit`) stops and exports nothing.

With `train.refit`, the first fit only chooses: early stopping on the dev loss picks the epoch
count, and the scores of that model on train and dev are kept (`selection.json`). A fresh model
then trains on train + dev for that many epochs (`history-refit.csv`, `curves-refit.png`); it is
the model tested and exported. Its test score is the one reported; its dev score would not be
honest (dev is in its training data), so metrics.json keeps the first fit's.

`run` reads top to bottom as the run's steps; each step is a function below it:
claim the folder -> start the runtime and load the data -> fit and score -> (refit and score) ->
metrics -> curves -> report (final_test) -> weights and export -> metrics.json.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelzoo import data as data_module
from modelzoo import export as export_module
from modelzoo import final_test, gate, hardware, run_folder
from modelzoo.curves import plot_curves
from modelzoo.distribute import Placement
from modelzoo.fit import fit_with_backups, worker_failures
from modelzoo.history import read_history, selected_epochs
from modelzoo.recipe_file import Recipe
from modelzoo.recipe_model import (
    compile_model,
    compiled_model,
    one_device_copy,
    save_weights,
    training_precision,
)
from modelzoo.report import Trained, export_card, run_metrics
from modelzoo.run_folder import (
    HISTORY_FILE,
    METRICS_FILE,
    RECIPE_FILE,
    REFIT_HISTORY_FILE,
    SELECTION_FILE,
    WEIGHTS_FILE,
    read_json,
    write_json,
)
from modelzoo.words import plural

#: Real dev examples the exported SavedModel must answer like the Keras model.
VERIFY_SAMPLES = 8


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    export_path: Path | None


def run(
    recipe: Recipe,
    *,
    runs_root: str | os.PathLike = "runs",
    run_dir: str | os.PathLike | None = None,
    export_dir: str | os.PathLike | None = "saved_models",
    fresh: bool = False,
    mirror: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    echo=print,
    callbacks: Sequence = (),
    placement: Placement | None = None,
    evaluate_test: bool = True,
    publish_anyway: bool = False,
) -> RunResult:
    """Train, evaluate and (unless `export_dir` is None) export the model of a recipe.

    `callbacks` are extra Keras callbacks for `model.fit` (e.g. a benchmark's clock).
    `placement` says where to train (`modelzoo.distribute`; default one device): under
    multi-worker only the chief exports, and the other workers keep their run files apart.
    `evaluate_test=False` leaves the test split untouched (hyperparameter trials) and exports nothing.
    The export passes the recipe's publishing gate (`modelzoo.gate`) or is kept as a candidate no
    server loads, unless `publish_anyway`; metrics.json's "publish" says which and why.
    """
    placement = placement or Placement()
    runs_root, run_dir = _apart_from_the_chief(placement, runs_root, run_dir)
    if not placement.is_chief or not evaluate_test:
        export_dir = None
    if export_dir is not None:  # a run that could not be published is refused before it trains
        export_module.check_export_dir(export_dir, recipe.export_name)
    mirror = data_module.resolve_mirror(mirror)  # a bad mirror fails before TensorFlow loads
    with run_folder.claimed(
        recipe.name,
        runs_root,
        run_dir,
        fresh,
        resumable=run_folder.is_interrupted,
        same_recipe=lambda folder: run_folder.has_same_recipe(folder, recipe),
        finished=run_folder.is_finished,
        run_files=run_folder.RUN_FILES,
    ) as (folder, resuming):
        strategy = _fresh_runtime(placement, recipe.train.seed)
        setting = _Setting(
            recipe, folder, placement, strategy, _load_data(recipe, placement, mirror, data_dir)
        )
        _write_recipe_and_announce(setting, resuming, echo)
        trained = _train(setting, callbacks, resuming, evaluate_test, echo)
        sizes, where = setting.splits.info.sizes, placement.describe(strategy)
        metrics = run_metrics(recipe, trained, resumed=resuming, sizes=sizes, strategy=where)
        metrics["precision"] = training_precision(recipe)
        metrics["cpu_kernels"] = hardware.cpu_kernels()
        _plot_curves(setting, refit=trained.refit is not None)
        if trained.test_predictions is not None:
            final_test.write_run_report(
                folder, recipe, trained.model, setting.splits, trained.test_predictions
            )
        export_path = _save_and_export(setting, trained.model, metrics, export_dir, publish_anyway)
        write_json(folder / METRICS_FILE, metrics)
        # Only now: a run killed before this point resumes at evaluation and export.
        run_folder.remove_backups(folder)
        return RunResult(folder, metrics, export_path)


@dataclass(frozen=True)
class _Setting:
    """What every step of a run works with: the recipe, its folder, where it trains, its data."""

    recipe: Recipe
    folder: Path
    placement: Placement
    strategy: Any
    splits: Any


def _apart_from_the_chief(placement: Placement, runs_root, run_dir):
    """`runs_root` and `run_dir` for this process: a worker other than the chief keeps its run
    files apart (`<runs_root>/<worker>/`, `<run_dir>.<worker>`)."""
    if placement.is_chief:
        return runs_root, run_dir
    worker = placement.worker_name
    if run_dir is not None:
        run_dir = Path(run_dir).with_name(f"{Path(run_dir).name}.{worker}")
    return Path(runs_root) / worker, run_dir


def _fresh_runtime(placement: Placement, seed: int):
    """The distribution strategy, made first (logical devices and collectives need a fresh
    runtime), then the seeds and deterministic ops."""
    import keras
    import tensorflow as tf

    strategy = placement.create()
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    return strategy


def _load_data(recipe: Recipe, placement: Placement, mirror, data_dir):
    """The recipe's train / dev / test pipelines, each worker's share under multi-worker."""
    settings = recipe.train
    splits = data_module.load(
        recipe.data,
        batch_size=settings.batch_size,
        seed=settings.seed,
        mirror=mirror,
        data_dir=data_dir,
        max_examples=recipe.max_examples,
        one_hot=recipe.one_hot,
        augment=recipe.augment,
    )
    if placement.strategy == "multi-worker":
        splits = data_module.shard_by_example(splits)
    return splits


def _write_recipe_and_announce(setting: _Setting, resuming: bool, echo) -> None:
    """Write the resolved recipe into the run folder and say what the run trains, where."""
    recipe, folder, placement = setting.recipe, setting.folder, setting.placement
    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECIPE_FILE).write_text(json.dumps(recipe.to_dict(), indent=2) + "\n")
    where = "" if placement.strategy == "default" else f", {placement.describe(setting.strategy)}"
    precision = training_precision(recipe)
    if recipe.train.precision == "auto" or precision != "float32":
        where += f", in {precision}" + (" (auto)" if recipe.train.precision == "auto" else "")
    if placement.strategy == "multi-worker":
        where += (
            ", this process the chief"
            if placement.is_chief
            else f", this process {placement.worker_name}"
        )
    sizes = setting.splits.info.sizes
    echo(
        f"{'resuming' if resuming else 'training'} {recipe.name}: {recipe.model} on {recipe.data} "
        f"({sizes['train']} train, {sizes['dev']} dev examples{where}); run folder {folder}"
    )


def _train(
    setting: _Setting, callbacks: Sequence, resuming: bool, evaluate_test: bool, echo
) -> Trained:
    """The fit, and with `train.refit` the refit after it, whose model the run tests and exports.

    A resumed run whose first fit had chosen (selection.json) goes straight on to the refit.
    """
    refit = setting.recipe.train.refit and evaluate_test
    selection = read_json(setting.folder / SELECTION_FILE) if resuming and refit else None
    trained = None
    if selection is None:
        trained = _fit_and_score(setting, callbacks, test=evaluate_test and not refit)
        if not refit:
            return trained
        selection = _record_selection(setting, trained)
    seconds_so_far = trained.seconds if trained is not None else 0.0
    return _refit_and_score(setting, callbacks, selection, seconds_so_far, echo)


def _fit_and_score(setting: _Setting, callbacks: Sequence, *, test: bool) -> Trained:
    """The first (or only) fit, on train with dev watched, and its scores (with `test`, on test too)."""
    recipe, splits = setting.recipe, setting.splits
    model = compiled_model(recipe, setting.strategy, splits.train, splits.info.sizes["train"])
    seconds = fit_with_backups(
        model,
        recipe,
        setting.placement,
        setting.folder,
        "fit",
        splits.train,
        splits.dev,
        epochs=recipe.train.epochs,
        callbacks=callbacks,
    )
    epochs_run = len(read_history(setting.folder / HISTORY_FILE))
    with worker_failures(setting.placement, recipe):
        scores = {
            split: model.evaluate(splits.for_evaluation(split), verbose=0, return_dict=True)
            for split in ("train", "dev")
        }
        predictions = None
        if test:
            scores["test"], predictions = _evaluate_test(setting, model)
    return Trained(model, scores, epochs_run, seconds, test_predictions=predictions)


def _record_selection(setting: _Setting, first: Trained) -> dict[str, Any]:
    """What the first fit chose for the refit (epochs, and its train and dev scores), kept in
    selection.json so that a resumed run does not fit it again."""
    rows = read_history(setting.folder / HISTORY_FILE)
    selection = {
        "epochs": selected_epochs(rows, setting.recipe.train),
        "epochs_run": first.epochs_run,
        "train": first.scores["train"],
        "dev": first.scores["dev"],
    }
    write_json(setting.folder / SELECTION_FILE, json.loads(json.dumps(selection, default=float)))
    return selection


def _refit_and_score(
    setting: _Setting, callbacks: Sequence, selection: dict, seconds_so_far: float, echo
) -> Trained:
    """A fresh model fit on train + dev for the epochs the first fit chose, and scored on test."""
    import keras

    recipe, splits = setting.recipe, setting.splits
    examples = splits.info.sizes["train"] + splits.info.sizes["dev"]
    echo(
        f"refit {recipe.name}: a fresh model on train + dev ({examples} examples) for the "
        f"{plural(selection['epochs'], 'epoch')} the dev split chose"
    )
    keras.utils.set_random_seed(recipe.train.seed)
    model = compiled_model(recipe, setting.strategy, splits.train_dev, examples)
    seconds = fit_with_backups(
        model,
        recipe,
        setting.placement,
        setting.folder,
        "refit",
        splits.train_dev,
        None,
        epochs=selection["epochs"],
        callbacks=callbacks,
    )
    with worker_failures(setting.placement, recipe):
        test, predictions = _evaluate_test(setting, model)
        train_dev = model.evaluate(splits.for_evaluation("train_dev"), verbose=0, return_dict=True)
    scores = {"train": selection["train"], "dev": selection["dev"], "test": test}
    refit = {"epochs": selection["epochs"], "examples": examples, "train_dev": train_dev}
    return Trained(
        model,
        scores,
        selection["epochs_run"],
        seconds_so_far + seconds,
        refit,
        test_predictions=predictions,
    )


def _evaluate_test(setting: _Setting, model):
    """The run's one evaluation on test: its scores, and the predictions its report uses.

    Under a distribution strategy, a one-device copy is scored (every worker the whole split); a
    model trained in mixed precision is scored as it is exported, as a float32 copy.
    """
    splits = setting.splits
    if _needs_copy(setting):
        model = one_device_copy(model, setting.recipe)
        compile_model(model, setting.recipe, splits.info.sizes["train"])
    return final_test.evaluate_test(model, splits.test, splits.info.sizes["test"])


def _needs_copy(setting: _Setting) -> bool:
    """Whether the model a run tests and exports is a one-device float32 copy of the trained one:
    under a distribution strategy (distributed variables) or mixed precision (bfloat16 compute)."""
    return (
        setting.placement.strategy != "default" or training_precision(setting.recipe) != "float32"
    )


def _plot_curves(setting: _Setting, refit: bool) -> None:
    """curves.png from history.csv (and, with a refit, curves-refit.png from its history)."""
    recipe, folder = setting.recipe, setting.folder
    title = f"{recipe.name}: {recipe.model} on {recipe.data}"
    plot_curves(
        read_history(folder / HISTORY_FILE),
        folder / "curves.png",
        title=title,
        early_stopping=bool(recipe.train.early_stopping_patience),
    )
    if refit:
        plot_curves(
            read_history(folder / REFIT_HISTORY_FILE),
            folder / "curves-refit.png",
            title=f"{title}, refit on train + dev",
            train_label="train + dev",
        )


def _save_and_export(
    setting: _Setting, model, metrics: dict[str, Any], export_dir, publish_anyway: bool
) -> Path | None:
    """The chief saves the trained weights; with an `export_dir`, the model is exported through
    the publishing gate. `metrics` records what was written; returns the export's folder."""
    recipe, placement = setting.recipe, setting.placement
    if _needs_copy(setting):  # one device, float32: free of distributed variables and bfloat16
        model = one_device_copy(model, recipe)
    if placement.is_chief:
        save_weights(model, recipe, setting.folder / WEIGHTS_FILE)
        metrics["weights_file"] = WEIGHTS_FILE
    if export_dir is None:
        return None
    from modelzoo import exporters

    card = export_card(recipe, model, metrics, setting.splits.info)
    samples, _ = data_module.take_arrays(setting.splits.dev, VERIFY_SAMPLES)
    export_path, metrics["publish"] = gate.export(
        model,
        export_dir,
        recipe.export_name,
        card,
        samples,
        recipe.publish,
        max_examples=recipe.max_examples,
        publish_anyway=publish_anyway,
        formats=recipe.export_formats,
        **exporters.data_for_formats(recipe.export_formats, setting.splits),
    )
    if export_path is not None:
        metrics["export"] = str(export_path)
    return export_path
