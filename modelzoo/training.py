"""Run a recipe: load the data, build and compile the model, fit, evaluate, record, export.

A run folder (`runs/<recipe>/<timestamp>/`) receives the resolved recipe, `history.csv`,
TensorBoard logs, `curves.png` (loss and metrics against the epoch) and `metrics.json`. A backup
(`modelzoo.checkpoint`) is written after every epoch and kept until the run has exported and
written metrics.json: the same command after a crash resumes from the last finished epoch, or
straight at evaluation and export when training had ended, and `fresh=True` starts over. A run
whose loss turns NaN or explodes (above
`DIVERGENCE_FACTOR` x the untrained model's dev loss) stops and exports nothing.

With `train.refit`, the first fit only chooses: early stopping on the dev loss picks the epoch
count, and the scores of that model on train and dev are kept (`selection.json`). A fresh model
then trains on train + dev for that many epochs (`history-refit.csv`, `curves-refit.png`); it is
the model tested and exported. Its test score is the one reported; its dev score would not be
honest (dev is in its training data), so metrics.json keeps the first fit's.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelzoo import checkpoint, distribute, gate, run_folder
from modelzoo import data as data_module
from modelzoo import export as export_module
from modelzoo.checkpoint import Backup
from modelzoo.distribute import Placement
from modelzoo.errors import ModelzooError
from modelzoo.losses import keras_loss
from modelzoo.provenance import package_versions
from modelzoo.recipe_file import Recipe
from modelzoo.registry import create_model, factory_parameters
from modelzoo.words import plural

RECIPE_FILE = "recipe.json"
METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.csv"
BACKUP_DIR = "backup"
#: With `train.refit`: what the first fit chose (epochs, train and dev scores), written when it ends.
SELECTION_FILE = "selection.json"
REFIT_HISTORY_FILE = "history-refit.csv"
REFIT_BACKUP_DIR = "backup-refit"
#: The trained (tested, exported) model's weights: what `benchmarks/publish_weights.py` ships.
WEIGHTS_FILE = "model.weights.h5"
#: Models with at most this many parameters have them written into metrics.json (e.g. w and b).
SMALL_MODEL = 16
#: Real dev examples the exported SavedModel must answer like the Keras model.
VERIFY_SAMPLES = 8


class TrainingError(ModelzooError):
    """Training could not produce a usable model, e.g. the loss diverged (exit code 1)."""


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    metrics: dict[str, Any]
    export_path: Path | None


def _interrupted(folder: Path) -> bool:
    """A run that saved progress (an epoch's backup, or a finished first fit before a refit) but did not finish."""
    saved = Backup(folder / BACKUP_DIR).exists() or (folder / SELECTION_FILE).exists()
    return saved and not (folder / METRICS_FILE).exists()


def _same_recipe(folder: Path, recipe: Recipe) -> bool:
    try:
        saved = json.loads((folder / RECIPE_FILE).read_text())
    except (OSError, ValueError):
        return False
    current = recipe.to_dict()
    return {k: v for k, v in saved.items() if k != "source"} == {
        k: v for k, v in current.items() if k != "source"
    }


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
    if not placement.is_chief:
        runs_root = Path(runs_root) / placement.worker_name
        run_dir = (
            None
            if run_dir is None
            else Path(run_dir).with_name(f"{Path(run_dir).name}.{placement.worker_name}")
        )
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
        resumable=_interrupted,
        same_recipe=lambda folder: _same_recipe(folder, recipe),
        finished=lambda folder: (folder / METRICS_FILE).exists(),
        run_files=_RUN_FILES,
    ) as (folder, resuming):
        return _run_in(
            folder,
            resuming,
            recipe,
            export_dir=export_dir,
            mirror=mirror,
            data_dir=data_dir,
            echo=echo,
            callbacks=callbacks,
            placement=placement,
            evaluate_test=evaluate_test,
            publish_anyway=publish_anyway,
        )


#: What a run that starts over in its folder removes first.
_RUN_FILES = (
    BACKUP_DIR,
    HISTORY_FILE,
    "logs",
    SELECTION_FILE,
    REFIT_BACKUP_DIR,
    REFIT_HISTORY_FILE,
)


def _run_in(
    folder: Path,
    resuming: bool,
    recipe: Recipe,
    *,
    export_dir,
    mirror,
    data_dir,
    echo,
    callbacks,
    placement: Placement,
    evaluate_test: bool,
    publish_anyway: bool,
) -> RunResult:
    """The body of `run`, in a claimed run folder."""

    import keras
    import tensorflow as tf

    strategy = placement.create()  # first: logical devices and collectives need a fresh runtime
    settings = recipe.train
    keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()

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
    sizes = splits.info.sizes
    refit = settings.refit and evaluate_test

    folder.mkdir(parents=True, exist_ok=True)
    (folder / RECIPE_FILE).write_text(json.dumps(recipe.to_dict(), indent=2) + "\n")
    where = "" if placement.strategy == "default" else f", {placement.describe(strategy)}"
    if placement.strategy == "multi-worker":
        where += (
            ", this process the chief"
            if placement.is_chief
            else f", this process {placement.worker_name}"
        )
    echo(
        f"{'resuming' if resuming else 'training'} {recipe.name}: {recipe.model} on {recipe.data} "
        f"({sizes['train']} train, {sizes['dev']} dev examples{where}); run folder {folder}"
    )

    selection = _read_json(folder / SELECTION_FILE) if resuming and refit else None
    train_seconds = 0.0
    if selection is None:
        model = _compiled_model(recipe, strategy, splits.train, sizes["train"])
        train_seconds += _fit(
            model,
            recipe,
            placement,
            folder,
            "fit",
            splits.train,
            splits.dev,
            epochs=settings.epochs,
            callbacks=callbacks,
        )
        rows = read_history(folder / HISTORY_FILE)
        epochs_run = len(rows)
        evaluated = ("train", "dev", "test") if evaluate_test and not refit else ("train", "dev")
        with _worker_failures(placement, recipe):
            scores = {
                split: model.evaluate(splits.for_evaluation(split), verbose=0, return_dict=True)
                for split in evaluated
            }
        if refit:
            selection = {
                "epochs": selected_epochs(rows, settings),
                "epochs_run": epochs_run,
                "train": scores["train"],
                "dev": scores["dev"],
            }
            _write_json(folder / SELECTION_FILE, json.loads(json.dumps(selection, default=float)))
    if refit:
        examples = sizes["train"] + sizes["dev"]
        echo(
            f"refit {recipe.name}: a fresh model on train + dev ({examples} examples) for the "
            f"{plural(selection['epochs'], 'epoch')} the dev split chose"
        )
        keras.utils.set_random_seed(settings.seed)
        model = _compiled_model(recipe, strategy, splits.train_dev, examples)
        train_seconds += _fit(
            model,
            recipe,
            placement,
            folder,
            "refit",
            splits.train_dev,
            None,
            epochs=selection["epochs"],
            callbacks=callbacks,
        )
        with _worker_failures(placement, recipe):
            scores = {
                "train": selection["train"],
                "dev": selection["dev"],
                "test": model.evaluate(splits.test, verbose=0, return_dict=True),
            }
            refit_scores = model.evaluate(
                splits.for_evaluation("train_dev"), verbose=0, return_dict=True
            )
        epochs_run = selection["epochs_run"]

    metrics = {
        "status": "completed",
        "recipe": recipe.name,
        "model": recipe.model,
        "data": recipe.data,
        "seed": settings.seed,
        "epochs_run": epochs_run,
        "train_seconds_this_process": round(train_seconds, 2),
        "resumed": resuming,
        "sizes": sizes,
        "strategy": placement.describe(strategy),
        **scores,
        "parameters": model.count_params(),
        "versions": package_versions(),
    }
    if refit:
        metrics["refit"] = {
            "epochs": selection["epochs"],
            "examples": examples,
            "train_dev": refit_scores,
        }
    if model.count_params() <= SMALL_MODEL:
        metrics["weights"] = {w.path: w.numpy().tolist() for w in model.weights}
    if recipe.predict_inputs:
        metrics["predictions"] = predictions_at(model, recipe.predict_inputs)
    metrics = json.loads(json.dumps(metrics, default=float))
    title = f"{recipe.name}: {recipe.model} on {recipe.data}"
    plot_curves(
        read_history(folder / HISTORY_FILE),
        folder / "curves.png",
        title=title,
        early_stopping=bool(settings.early_stopping_patience),
    )
    if refit:
        plot_curves(
            read_history(folder / REFIT_HISTORY_FILE),
            folder / "curves-refit.png",
            title=f"{title}, refit on train + dev",
            train_label="train + dev",
        )

    if (
        placement.strategy != "default"
    ):  # save and export a one-device copy, free of distributed variables
        trained, model = model, build_model(recipe, pretrained=False)
        model.set_weights(trained.get_weights())
    if placement.is_chief:
        save_weights(model, recipe, folder / WEIGHTS_FILE)
        metrics["weights_file"] = WEIGHTS_FILE
    export_path = None
    if export_dir is not None:
        card = export_card(recipe, model, metrics, splits.info)
        samples, _ = data_module.take_arrays(splits.dev, VERIFY_SAMPLES)
        export_path, metrics["publish"] = gate.export(
            model,
            export_dir,
            recipe.export_name,
            card,
            samples,
            recipe.publish,
            max_examples=recipe.max_examples,
            publish_anyway=publish_anyway,
        )
        if export_path is not None:
            metrics["export"] = str(export_path)
    _write_json(folder / METRICS_FILE, metrics)
    _remove_backups(
        folder
    )  # only now: a run killed before this point resumes at evaluation and export
    return RunResult(folder, metrics, export_path)


def _remove_backups(folder: Path) -> None:
    for name in (BACKUP_DIR, REFIT_BACKUP_DIR):
        shutil.rmtree(folder / name, ignore_errors=True)


#: Where each fit of a run keeps its backup, its history and its TensorBoard logs.
_FIT_FILES = {
    "fit": (BACKUP_DIR, HISTORY_FILE, "logs"),
    "refit": (REFIT_BACKUP_DIR, REFIT_HISTORY_FILE, "logs/refit"),
}


def _compiled_model(recipe: Recipe, strategy, train, examples: int):
    """The recipe's model under `strategy`, its Normalization layers adapted to `train`, compiled."""
    import keras

    with strategy.scope():
        model = build_model(recipe)
        for layer in model.layers:  # weights to fine-tune from bring their own statistics
            if isinstance(layer, keras.layers.Normalization) and "weights" not in recipe.model_args:
                layer.adapt(train.map(lambda x, y: x))
        compile_model(model, recipe, examples)
    return model


def compile_model(model, recipe: Recipe, examples: int) -> None:
    """Compile `model` as `recipe` trains it on `examples` examples: optimizer, loss (by name) and metrics."""
    settings = recipe.train
    model.compile(
        optimizer=make_optimizer(recipe, math.ceil(examples / settings.batch_size)),
        loss=keras_loss(settings.loss),
        metrics=list(settings.metrics),
    )


def _fit(
    model,
    recipe: Recipe,
    placement: Placement,
    folder: Path,
    stage: str,
    train,
    dev,
    *,
    epochs: int,
    callbacks: Sequence,
) -> float:
    """One `model.fit` with a backup every epoch (`stage` "fit" or "refit" names its files); its seconds.

    A backup from an earlier, killed attempt is restored first, and the fit goes on from its epoch;
    a backup of a fit that had ended skips the fit. Early stopping watches the dev loss when there
    is a dev split; a NaN or exploding loss ends the run with a TrainingError and a "diverged"
    metrics.json.
    """
    import keras

    backup_dir, history_file, logs = _FIT_FILES[stage]
    backup = Backup(folder / backup_dir)
    # The untrained model's dev loss: a training loss far above it means the steps are too large.
    # (Dev, not train: evaluating the shuffled training pipeline would use up one of its orders.)
    baseline = model.evaluate(dev, verbose=0, return_dict=True)["loss"] if dev is not None else None
    with (
        model.distribute_strategy.scope()
    ):  # optimizer variables made on restore must be distributed too
        # Workers killed at slightly different instants may hold different epochs: all take the latest they share.
        epoch = (
            distribute.agreed_epoch(model.distribute_strategy, backup.epochs(), epochs)
            if placement.strategy == "multi-worker"
            else None
        )
        restored = backup.restore(model, epoch)
    initial_epoch = restored.epoch if restored else 0
    _keep_history_rows(
        folder / history_file, initial_epoch
    )  # rows of epochs the backup does not hold
    if restored is not None and restored.complete:
        return 0.0
    stopping = None
    if dev is not None and recipe.train.early_stopping_patience:
        stopping = checkpoint.resumable_early_stopping(
            restored,
            monitor="val_loss",
            patience=recipe.train.early_stopping_patience,
            restore_best_weights=True,
        )
    if (
        restored is not None and restored.stopped
    ):  # killed after early stopping ended the fit, before its last save
        if restored.best_weights is not None:
            model.set_weights(restored.best_weights)
        backup.save(model, initial_epoch, complete=True)
        return 0.0
    _draw_orders_of_finished_epochs(train, initial_epoch)
    guard = divergence_guard(baseline)

    def healthy(logs: dict) -> bool:  # a diverged epoch is never a state to resume from
        loss = logs.get("loss")
        return guard.diverged is None and loss is not None and math.isfinite(loss)

    callbacks = [
        *callbacks,
        keras.callbacks.TerminateOnNaN(),
        guard,
        keras.callbacks.CSVLogger(str(folder / history_file), append=True),
        keras.callbacks.TensorBoard(log_dir=str(folder / logs)),
        *([stopping] if stopping is not None else []),
        # Last: an epoch's row is in history.csv, and early stopping's verdict in hand, before its backup.
        backup.callback(stopping=stopping, should_save=healthy),
    ]
    start = time.perf_counter()
    with _worker_failures(placement, recipe):
        history = model.fit(
            train,
            validation_data=dev,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=callbacks,
            shuffle=False,  # the training pipeline already reshuffles every epoch
            verbose=1 if sys.stdout.isatty() else 2,
        )
    seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    if (
        losses
        and not all(math.isfinite(v) for v in losses)
        or model.stop_training
        and _nan_weights(model)
    ):
        reason = "the loss became NaN or infinite"
    elif guard.diverged is not None:
        epoch, loss = guard.diverged
        reason = (
            f"the training loss reached {loss:.4g} in epoch {epoch}, more than {DIVERGENCE_FACTOR:g}x "
            f"the untrained model's {guard.baseline:.4g}"
        )
    else:
        backup.save(
            model, initial_epoch + len(losses), complete=True
        )  # the weights after early stopping's restore
        return seconds
    _write_json(folder / METRICS_FILE, {"status": "diverged", "recipe": recipe.name})
    _remove_backups(folder)
    raise TrainingError(
        f"{recipe.name}: training diverged ({reason}) after "
        f"{plural(initial_epoch + len(losses), 'epoch')}; nothing was exported. "
        f"Lower train.learning_rate (now {recipe.train.learning_rate}) and run again"
    )


#: A training loss this many times the untrained model's dev loss counts as divergence.
DIVERGENCE_FACTOR = 10.0


def _draw_orders_of_finished_epochs(train, epochs: int) -> None:
    """Advance `train`'s random streams past `epochs` epochs, so a resumed fit sees what an uninterrupted one saw.

    Each iterator made over the pipeline draws the next shuffle order and augmentation seeds.
    Keras 3's `fit` makes two per epoch when the batch count is known (one to train on, one ready
    for the next epoch, which it discards) and one when it is not; making as many here leaves the
    streams where the uninterrupted fit had them. Together with the seed-generator states in the
    backup, a resumed run on one device gives the uninterrupted run's numbers bit for bit
    (tests/test_training.py checks it, and would catch a Keras that iterates otherwise).
    """
    per_epoch = 2 if int(train.cardinality()) >= 0 else 1
    for _ in range(epochs * per_epoch):
        iter(train)


def _keep_history_rows(path: Path, epochs: int) -> None:
    """Cut a history CSV to its header and the rows of the first `epochs` epochs (none: remove it).

    A fit killed after an epoch's row was logged but before its backup was saved has logged a row
    the resumed fit will log again; a row cut short by the kill is dropped too.
    """
    if not path.exists():
        return
    if epochs == 0:
        path.unlink()
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:  # nothing was logged (or a power cut lost it): the fit logs anew
        path.unlink()
        return
    header, rows = lines[0], lines[1:]
    width = header.count(",")
    kept = [
        row
        for row in rows
        if row.endswith("\n")
        and row.count(",") == width
        and row.split(",", 1)[0].isdigit()
        and int(row.split(",", 1)[0]) < epochs
    ]
    if kept != rows:
        checkpoint.write_atomically(path, "".join([header, *kept]).encode())


def divergence_guard(baseline: float | None):
    """A Keras callback that stops training once an epoch's loss exceeds DIVERGENCE_FACTOR x `baseline`
    (the untrained model's loss); `.diverged` is then (epoch, loss). With no baseline it never stops."""
    import keras

    class Guard(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.baseline, self.diverged = baseline, None

        def on_epoch_end(self, epoch: int, logs=None) -> None:
            loss = (logs or {}).get("loss")
            if (
                self.baseline is not None
                and loss is not None
                and loss > DIVERGENCE_FACTOR * self.baseline
            ):
                self.diverged = (epoch + 1, float(loss))
                self.model.stop_training = True

    return Guard()


def selected_epochs(rows: list[dict[str, float]], settings) -> int:
    """The epoch count the dev split chose: early stopping's best epoch (lowest dev loss), else all epochs run."""
    if settings.early_stopping_patience and rows and "val_loss" in rows[0]:
        losses = [row["val_loss"] for row in rows]
        return losses.index(min(losses)) + 1
    return len(rows)


@contextlib.contextmanager
def _worker_failures(placement: Placement, recipe: Recipe):
    """Under multi-worker, turn a lost peer (collectives aborted) into one clear TrainingError."""
    if placement.strategy != "multi-worker":
        yield
        return
    import tensorflow as tf

    try:
        yield
    except (
        tf.errors.UnavailableError,
        tf.errors.DeadlineExceededError,
        tf.errors.CancelledError,
        tf.errors.FailedPreconditionError,
        tf.errors.InternalError,
    ) as error:
        first_line = (error.message or str(error)).strip().splitlines()[0][:200]
        raise TrainingError(
            f"{recipe.name}: multi-worker training lost contact with another worker ({type(error).__name__}: "
            f"{first_line}); start the same command again on every worker: each resumes from its last finished epoch"
        ) from None


def build_model(recipe: Recipe, *, pretrained: bool = True):
    """The recipe's model (starting from `model.weights` if the recipe names some, unless
    `pretrained` is False), seeded by the recipe unless its overrides set a seed."""
    arguments = dict(recipe.model_args if pretrained else recipe.architecture)
    if "seed" in factory_parameters(recipe.model) and "seed" not in arguments:
        arguments["seed"] = recipe.train.seed
    return create_model(recipe.model, **arguments)


def make_optimizer(recipe: Recipe, steps_per_epoch: int):
    """The recipe's optimizer; the cosine schedule decays the rate to 0 over all epochs."""
    import keras

    settings = recipe.train
    rate = settings.learning_rate
    if settings.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            rate, decay_steps=steps_per_epoch * settings.epochs
        )
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return optimizers[settings.optimizer](learning_rate=rate)


def _nan_weights(model) -> bool:
    import numpy as np

    return any(not np.all(np.isfinite(w)) for w in model.get_weights())


def read_history(path: Path) -> list[dict[str, float]]:
    """The per-epoch rows of history.csv (all epochs, across resumes).

    Keras' CSVLogger writes "NA" in val_ columns of a fit without validation data; those are left out.
    """
    if not path.exists():
        return []
    with path.open() as f:
        return [{k: float(v) for k, v in row.items() if v != "NA"} for row in csv.DictReader(f)]


def plot_curves(
    rows: list[dict[str, float]],
    path: Path,
    title: str,
    *,
    train_label: str = "train",
    early_stopping: bool = False,
) -> None:
    """One panel per quantity (loss, then each metric): the training split (`train_label`) and dev
    against the epoch; with `early_stopping`, a vertical line at the epoch whose weights were restored."""
    if not rows:
        return
    import matplotlib.pyplot as plt

    figure = curves_figure(rows, title, train_label=train_label, early_stopping=early_stopping)
    figure.savefig(path, dpi=100)
    plt.close(figure)


def curves_figure(
    rows: list[dict[str, float]],
    title: str,
    *,
    train_label: str = "train",
    early_stopping: bool = False,
):
    """The matplotlib figure `plot_curves` saves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [
        k for k in rows[0] if k != "epoch" and not k.startswith("val_") and k != "learning_rate"
    ]
    figure, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 3.6), squeeze=False)
    epochs = [int(row["epoch"]) + 1 for row in rows]
    # EarlyStopping(restore_best_weights=True) ends a fit with the weights of its lowest dev loss.
    restored = None
    if early_stopping and "val_loss" in rows[0]:
        losses = [row["val_loss"] for row in rows]
        restored = epochs[losses.index(min(losses))]
    for axis, name in zip(axes[0], names):
        axis.plot(epochs, [row[name] for row in rows], marker="o", label=train_label)
        if f"val_{name}" in rows[0]:
            axis.plot(epochs, [row[f"val_{name}"] for row in rows], marker="o", label="dev")
        if restored is not None:
            axis.axvline(
                restored, color="grey", linestyle="--", label=f"restored (epoch {restored})"
            )
        axis.set_xlabel("epoch")
        axis.set_ylabel(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def export_card(recipe: Recipe, model, metrics: dict[str, Any], info) -> dict[str, Any]:
    """The JSON card written beside a recipe's exported SavedModel."""
    return export_module.make_card(
        model,
        name=recipe.export_name,
        model_name=recipe.model,
        recipe=recipe.to_dict(),
        data={"name": info.name, "sizes": info.sizes, "source": info.source},
        metrics={key: metrics[key] for key in ("train", "dev", "test", "refit") if key in metrics},
        versions=metrics["versions"],
    )


def predictions_at(model, rows: Sequence[Sequence[float]]) -> list[dict]:
    """The model's outputs for feature `rows` (a recipe's [predict] inputs), keyed as its serving signature."""
    import numpy as np

    _, output_key = export_module.signature_keys(model)
    outputs = model.predict(np.asarray(rows, np.float32), verbose=0)
    return [{"input": list(row), output_key: output.tolist()} for row, output in zip(rows, outputs)]


def save_weights(model, recipe: Recipe, path: Path) -> None:
    """The model's weights alone, via a temporary file and a rename so a reader never sees half a file.

    A compiled model's `save_weights` also writes its optimizer's state (Adam: twice the model's
    size); a fresh copy of the recipe's model, uncompiled, holds the weights without it.
    """
    bare = build_model(recipe, pretrained=False)
    bare.set_weights(model.get_weights())
    checkpoint.save_weights_atomically(bare, path)


def _read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's content, or None when it is missing."""
    return json.loads(path.read_text()) if path.exists() else None


def _write_json(path: Path, content: dict[str, Any]) -> None:
    """Write JSON via a temporary file and a rename, so a reader never sees half a file."""
    checkpoint.write_atomically(path, (json.dumps(content, indent=2) + "\n").encode())
