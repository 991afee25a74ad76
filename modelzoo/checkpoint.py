"""Backups of a fit that are always a complete earlier state, whenever the process is killed.

A backup folder holds one weights file per saved state (`epoch-<N>.weights.h5`: the model and its
optimizer after N epochs) and `state.json`, which names the current one and the one before it.
Every file is written under a temporary name, flushed to disk and renamed into place, and
`state.json` is replaced only once the weights it names are complete; weights of older states are
removed afterwards. A kill at any instant therefore leaves either the previous state or the new one,
never a half-written file that a rerun would trip over.

The state before the current one is kept for multi-worker training: a worker killed between two
workers' saves of the same epoch is one epoch behind the others, and they all resume from the
epoch every one of them holds (`Backup.epochs`, `Backup.restore(model, epoch)`).

Random-number state that Keras leaves out of weights files (the seed generators of Dropout and
other random layers) is kept in `state.json` too, so a resumed fit draws what the uninterrupted one
would have.

`complete` marks the state saved when the fit ended (after early stopping restored its best
weights): a rerun then skips the fit and goes straight on to evaluation and export.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"


@dataclass(frozen=True)
class BackupState:
    """What a backup restored: epochs finished, whether the fit had ended, and early stopping's state."""

    epoch: int
    complete: bool
    stopping: dict[str, Any] | None = None
    best_weights: list | None = None

    @property
    def stopped(self) -> bool:
        """Early stopping had decided, at the end of the saved epoch, that the fit was over."""
        return bool(self.stopping and self.stopping.get("stopped_epoch"))


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` via a flushed temporary file and a rename."""
    temporary = path.with_name(f".{path.name}.partial")
    with open(temporary, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def save_weights_atomically(model, path: Path) -> None:
    """`model.save_weights(path)` via a flushed temporary file and a rename."""
    temporary = path.with_name(
        f".{path.name[: -len('.weights.h5')]}.partial.weights.h5"
    )  # Keras wants the suffix
    model.save_weights(str(temporary))
    with open(temporary, "rb") as f:
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _random_state(model) -> list:
    """The model's variables that are not weights: the states of its layers' seed generators."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


class Backup:
    """The backup of one fit, in `folder`."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def _states(self) -> list[dict[str, Any]]:
        """The saved states whose files are all there: the current one first, then the one before it."""
        try:
            current = json.loads((self.folder / STATE_FILE).read_text())
        except (OSError, ValueError):
            return []
        states = [current, current.get("previous") if isinstance(current, dict) else None]
        return [state for state in states if self._usable(state)]

    def _usable(self, state) -> bool:
        try:
            int(state["epoch"]), bool(state["complete"])
            files = [
                state["weights"],
                *([state["best_weights"]] if state.get("best_weights") else []),
            ]
            return all((self.folder / name).is_file() for name in files)
        except (KeyError, TypeError, ValueError, AttributeError):
            return False

    def _saved(self) -> dict[str, Any] | None:
        states = self._states()
        return states[0] if states else None

    def exists(self) -> bool:
        """Whether there is a complete state to resume from."""
        return self._saved() is not None

    def epochs(self) -> list[int]:
        """The epoch counts of the states this backup can restore (the current one first)."""
        return [int(state["epoch"]) for state in self._states()]

    def restore(self, model, epoch: int | None = None) -> BackupState | None:
        """Load the saved weights, optimizer and random state into the compiled `model`; the state, or None.

        `epoch` picks the state after that many epochs (0: none, the model stays as it is) instead
        of the current one; it must be one of `epochs()`.
        """
        if epoch is None:
            saved = self._saved()
        elif epoch == 0:
            saved = None
        else:
            saved = next((state for state in self._states() if int(state["epoch"]) == epoch), None)
            if saved is None:
                raise ValueError(
                    f"{self.folder} holds no backup after epoch {epoch} (it holds {self.epochs()})"
                )
        if saved is None:
            return None
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(
                model.trainable_variables
            )  # its variables must exist to be loaded
        model.load_weights(str(self.folder / saved["weights"]))
        variables = _random_state(model)
        if len(saved.get("random_state", [])) == len(
            variables
        ):  # by position: names (seed_generator_2) vary
            for variable, value in zip(variables, saved["random_state"]):
                variable.assign(value)
        import numpy as np

        best = None
        if saved.get("best_weights"):
            with np.load(self.folder / saved["best_weights"]) as arrays:
                best = [arrays[f"w{i}"] for i in range(len(arrays.files))]
        return BackupState(
            int(saved["epoch"]), bool(saved["complete"]), saved.get("stopping"), best
        )

    def save(self, model, epoch: int, *, complete: bool = False, stopping=None) -> None:
        """Save `model` (weights and optimizer) as the state after `epoch` epochs, with `stopping`'s
        (a keras EarlyStopping's) state; `complete` marks the fit's end."""
        self.folder.mkdir(parents=True, exist_ok=True)
        previous = self._saved()
        stem = f"{'final' if complete else 'epoch'}-{epoch}"  # final-N does not replace epoch-N, the current state
        name = f"{stem}.weights.h5"
        save_weights_atomically(model, self.folder / name)
        state = {
            "epoch": epoch,
            "complete": complete,
            "weights": name,
            "random_state": [v.numpy().tolist() for v in _random_state(model)],
        }
        if stopping is not None:
            state["stopping"] = {
                "wait": stopping.wait,
                "best": _plain(stopping.best),
                "best_epoch": stopping.best_epoch,
                "stopped_epoch": stopping.stopped_epoch,
            }
            if stopping.best_weights is not None:
                import numpy as np

                buffer = io.BytesIO()
                np.savez(buffer, **{f"w{i}": w for i, w in enumerate(stopping.best_weights)})
                state["best_weights"] = f"{stem}.best.npz"
                write_atomically(self.folder / state["best_weights"], buffer.getvalue())
        if (
            previous is not None and previous["weights"] == name
        ):  # the same state saved again: keep the one before
            previous = previous.get("previous") if self._usable(previous.get("previous")) else None
        if previous is not None:
            state["previous"] = {key: value for key, value in previous.items() if key != "previous"}
        write_atomically(self.folder / STATE_FILE, (json.dumps(state) + "\n").encode())
        kept = {STATE_FILE}
        for saved in (state, previous):
            if saved is not None:
                kept.update({saved["weights"], saved.get("best_weights")})
        for (
            path
        ) in self.folder.iterdir():  # what the new state replaced, and leftovers of a killed save
            if path.name not in kept:
                path.unlink(missing_ok=True)

    def callback(self, *, stopping=None, should_save: Callable[[dict], bool] = lambda logs: True):
        """A Keras callback saving the state at the end of every epoch where `should_save(logs)`.

        It must come after `stopping` (and after the history logger) in the callback list, so that
        the state it saves includes that epoch's decisions.
        """
        import keras

        backup = self

        class SaveEveryEpoch(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs=None) -> None:
                if should_save(logs or {}):
                    backup.save(self.model, epoch + 1, stopping=stopping)

        return SaveEveryEpoch()


def resumable_early_stopping(restored: BackupState | None, **options):
    """A keras EarlyStopping that starts from the state a backup saved instead of from scratch,
    and whose best weights are the moving average where the optimizer keeps one (the weights its
    dev score was measured with)."""
    import keras

    from modelzoo.weight_averaging import averaged_weights

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        def on_epoch_end(self, epoch, logs=None) -> None:
            with averaged_weights(self.model):
                super().on_epoch_end(epoch, logs)

        def on_train_begin(self, logs=None) -> None:
            super().on_train_begin(logs)
            if restored is not None and restored.stopping is not None:
                self.wait = restored.stopping["wait"]
                self.best = restored.stopping["best"]
                self.best_epoch = restored.stopping["best_epoch"]
                self.stopped_epoch = restored.stopping["stopped_epoch"]
                self.best_weights = restored.best_weights

    return ResumableEarlyStopping(**options)


def _plain(value):
    """A JSON-able float (or None) from a metric value."""
    return None if value is None else float(value)
