"""Backups of a fit that are always a complete earlier state, whenever the process is killed.

A backup folder holds one weights file per saved state (`epoch-<N>.weights.h5`: the model and its
optimizer after N epochs) and `state.json`, which names the current one. Every file is written
under a temporary name, flushed to disk and renamed into place, and `state.json` is replaced only
once the weights it names are complete; older weights files are removed afterwards. A kill at any
instant therefore leaves either the previous state or the new one, never a half-written file that
a rerun would trip over.

Random-number state that Keras leaves out of weights files (the seed generators of Dropout and
other random layers) is kept in `state.json` too, so a resumed fit draws what the uninterrupted one
would have.

`complete` marks the state saved when the fit ended (after early stopping restored its best
weights): a rerun then skips the fit and goes straight on to evaluation and export.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "state.json"


@dataclass(frozen=True)
class BackupState:
    """What a backup restored: epochs finished, and whether the fit had ended."""

    epoch: int
    complete: bool


def write_atomically(path: Path, content: bytes) -> None:
    """Write `content` to `path` via a flushed temporary file and a rename."""
    temporary = path.with_name(f".{path.name}.partial")
    with open(temporary, "wb") as f:
        f.write(content)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _fsync(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _random_state(model) -> list:
    """The model's variables that are not weights: the states of its layers' seed generators."""
    weights = {id(w) for w in model.weights}
    return [v for v in model.variables if id(v) not in weights]


class Backup:
    """The backup of one fit, in `folder`."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def state(self) -> tuple[BackupState, Path] | None:
        """The saved state and its weights file, or None when there is none to resume from."""
        try:
            saved = json.loads((self.folder / STATE_FILE).read_text())
            weights = self.folder / saved["weights"]
            state = BackupState(int(saved["epoch"]), bool(saved["complete"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return (state, weights) if weights.is_file() else None

    def restore(self, model) -> BackupState | None:
        """Load the saved weights (and optimizer state) into the compiled `model`; the state, or None."""
        found = self.state()
        if found is None:
            return None
        state, weights = found
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)  # its variables must exist to be loaded
        model.load_weights(str(weights))
        saved = json.loads((self.folder / STATE_FILE).read_text()).get("random_state", [])
        variables = _random_state(model)
        if len(saved) == len(variables):  # in the model's order: names such as seed_generator_2 vary
            for variable, value in zip(variables, saved):
                variable.assign(value)
        return state

    def save(self, model, epoch: int, *, complete: bool = False) -> None:
        """Save `model` (weights and optimizer) as the state after `epoch` epochs."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{epoch}.weights.h5"
        temporary = self.folder / f".{name[: -len('.weights.h5')]}.partial.weights.h5"  # Keras wants the suffix
        model.save_weights(str(temporary))
        _fsync(temporary)
        os.replace(temporary, self.folder / name)
        state = {"epoch": epoch, "complete": complete, "weights": name,
                 "random_state": [v.numpy().tolist() for v in _random_state(model)]}
        write_atomically(self.folder / STATE_FILE, (json.dumps(state) + "\n").encode())
        for path in self.folder.iterdir():  # what the new state replaced, and leftovers of a killed save
            if path.name not in (name, STATE_FILE):
                path.unlink(missing_ok=True)

    def callback(self):
        """A Keras callback saving the state at the end of every epoch."""
        import keras

        backup = self

        class SaveEveryEpoch(keras.callbacks.Callback):
            def on_epoch_end(self, epoch: int, logs=None) -> None:
                backup.save(self.model, epoch + 1)

        return SaveEveryEpoch()
