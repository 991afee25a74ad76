"""One `model.fit` of a run, made safe to kill: a backup every epoch, resumed bit for bit, and
stopped with a TrainingError when the loss diverges.

A backup from an earlier, killed attempt is restored first and the fit goes on from its epoch (a
backup of a fit that had ended skips it). Early stopping watches the dev loss when there is a dev
split. A loss that turns NaN, or rises above `DIVERGENCE_FACTOR` x the untrained model's dev loss,
ends the run: metrics.json says "diverged", the backups go, and nothing is exported.
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from modelzoo import checkpoint, distribute, run_folder, weight_averaging
from modelzoo.checkpoint import Backup, BackupState
from modelzoo.distribute import Placement
from modelzoo.errors import ModelzooError
from modelzoo.history import keep_history_rows
from modelzoo.recipe_file import Recipe
from modelzoo.words import plural

#: A training loss this many times the untrained model's dev loss counts as divergence.
DIVERGENCE_FACTOR = 10.0


class TrainingError(ModelzooError):
    """Training could not produce a usable model, e.g. the loss diverged (exit code 1)."""


def fit_with_backups(
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
    """One `model.fit` with a backup every epoch (`stage` "fit" or "refit" names its files); its seconds."""
    backup_dir, history_file, _ = run_folder.FIT_FILES[stage]
    backup = Backup(folder / backup_dir)
    build_state_before_tracing(model, train)
    # The untrained model's dev loss: a training loss far above it means the steps are too large.
    # (Dev, not train: evaluating the shuffled training pipeline would use up one of its orders.)
    baseline = model.evaluate(dev, verbose=0, return_dict=True)["loss"] if dev is not None else None
    restored = _restore(model, backup, placement, epochs)
    initial_epoch = restored.epoch if restored else 0
    keep_history_rows(
        folder / history_file, initial_epoch
    )  # rows of epochs the backup does not hold
    if restored is not None and restored.complete:
        return 0.0
    stopping = _early_stopping(recipe, restored) if dev is not None else None
    if restored is not None and restored.stopped:
        # Killed after early stopping ended the fit, before its last save.
        if restored.best_weights is not None:
            model.set_weights(restored.best_weights)
        backup.save(model, initial_epoch, complete=True)
        return 0.0
    draw_orders_of_finished_epochs(train, initial_epoch)
    guard = divergence_guard(baseline)
    start = time.perf_counter()
    with worker_failures(placement, recipe):
        history = model.fit(
            train,
            validation_data=dev,
            epochs=epochs,
            initial_epoch=initial_epoch,
            callbacks=_fit_callbacks(model, callbacks, folder, stage, backup, guard, stopping),
            shuffle=False,  # the training pipeline already reshuffles every epoch
            verbose=1 if sys.stdout.isatty() else 2,
        )
    seconds = time.perf_counter() - start
    losses = history.history.get("loss", [])
    reason = _divergence(model, losses, guard)
    if reason is not None:
        _give_up(folder, recipe, reason, initial_epoch + len(losses))
    # The weights after early stopping's restore.
    backup.save(model, initial_epoch + len(losses), complete=True)
    return seconds


def build_state_before_tracing(model, train) -> None:
    """Create the optimizer's, the loss's and the metrics' variables before Keras traces its steps.

    Without a distribution strategy Keras creates them inside the first trace of its train and
    test steps, and TensorFlow traces a function that created variables a second time (~0.4 s
    for the diabetes MLP here, each step). This calls Keras' own `_symbolic_build`, which Keras
    runs before tracing under a strategy, with the shapes of `train`'s batches. A Keras whose
    method is missing or takes other arguments traces the steps as before."""
    build = getattr(model, "_symbolic_build", None)
    if build is None:
        return
    with model.distribute_strategy.scope():
        try:
            build(data_batch=train.element_spec)
        except TypeError:  # another Keras' signature: its first trace builds the state
            pass


def _restore(model, backup: Backup, placement: Placement, epochs: int) -> BackupState | None:
    """Restore the backup's latest state into `model` (None: there was none)."""
    # Optimizer variables made on restore must be distributed too.
    with model.distribute_strategy.scope():
        # Workers killed at slightly different instants may hold different epochs: all take the
        # latest they share.
        epoch = (
            distribute.agreed_epoch(model.distribute_strategy, backup.epochs(), epochs)
            if placement.strategy == "multi-worker"
            else None
        )
        return backup.restore(model, epoch)


def _early_stopping(recipe: Recipe, restored: BackupState | None):
    """Early stopping on the dev loss as the recipe sets it (None: it has no patience), in the
    state the backup saved."""
    if not recipe.train.early_stopping_patience:
        return None
    return checkpoint.resumable_early_stopping(
        restored,
        monitor="val_loss",
        patience=recipe.train.early_stopping_patience,
        restore_best_weights=True,
    )


def _fit_callbacks(
    model, extra: Sequence, folder: Path, stage: str, backup: Backup, guard, stopping
) -> list:
    """The callbacks of a fit: the moving average's swap for validation (if the optimizer keeps
    one), `extra`, the run's own after, the backup last."""
    import keras

    _, history_file, logs = run_folder.FIT_FILES[stage]

    def healthy(logs: dict) -> bool:  # a diverged epoch is never a state to resume from
        loss = logs.get("loss")
        return guard.diverged is None and loss is not None and math.isfinite(loss)

    return [
        *weight_averaging.evaluation_callbacks(model),
        *extra,
        keras.callbacks.TerminateOnNaN(),
        guard,
        keras.callbacks.CSVLogger(str(folder / history_file), append=True),
        epoch_tensorboard(folder / logs),
        *([stopping] if stopping is not None else []),
        # Last: an epoch's row is in history.csv, and early stopping's verdict in hand, before its backup.
        backup.callback(stopping=stopping, should_save=healthy),
    ]


def _divergence(model, losses: list[float], guard) -> str | None:
    """Why the fit diverged, in words; None when it did not."""
    if (losses and not all(math.isfinite(v) for v in losses)) or (
        model.stop_training and _nan_weights(model)
    ):
        return "the loss became NaN or infinite"
    if guard.diverged is not None:
        epoch, loss = guard.diverged
        return (
            f"the training loss reached {loss:.4g} in epoch {epoch}, more than {DIVERGENCE_FACTOR:g}x "
            f"the untrained model's {guard.baseline:.4g}"
        )
    return None


def _give_up(folder: Path, recipe: Recipe, reason: str, epochs: int) -> NoReturn:
    """End a diverged run: metrics.json says so, the backups go, and a TrainingError explains."""
    run_folder.write_json(
        folder / run_folder.METRICS_FILE, {"status": "diverged", "recipe": recipe.name}
    )
    run_folder.remove_backups(folder)
    raise TrainingError(
        f"{recipe.name}: training diverged ({reason}) after "
        f"{plural(epochs, 'epoch')}; nothing was exported. "
        f"Lower train.learning_rate (now {recipe.train.learning_rate}) and run again"
    )


def epoch_tensorboard(log_dir: Path):
    """Keras' TensorBoard callback at its default, one summary per epoch, without its per-batch
    cost: at update_freq="epoch" a batch's logs have no writer to go to, yet Keras still builds a
    summary of each of them after every batch (~1 ms a batch on a 2-core CPU, a sixth of a small
    recipe's fit). The graph and any profiling still happen as in Keras."""
    import keras

    class EpochTensorBoard(keras.callbacks.TensorBoard):
        def on_train_batch_end(self, batch, logs=None):
            super().on_train_batch_end(batch, None if self.update_freq == "epoch" else logs)

    return EpochTensorBoard(log_dir=str(log_dir))


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


def _nan_weights(model) -> bool:
    import numpy as np

    return any(not np.all(np.isfinite(w)) for w in model.get_weights())


def draw_orders_of_finished_epochs(train, epochs: int) -> None:
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


@contextlib.contextmanager
def worker_failures(placement: Placement, recipe: Recipe):
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
