"""Run folders: what one holds, which one a run uses, and a lock so that no two processes use one at once.

A run folder (`runs/<recipe>/<timestamp>/`) holds the resolved recipe (`RECIPE_FILE`), each fit's
history, backup and TensorBoard logs (`FIT_FILES`), `curves.png`, the trained weights
(`WEIGHTS_FILE`) and, once the run has ended, `METRICS_FILE`.

A run holds `<run folder>/.lock` with an exclusive `flock` for as long as it runs. The kernel
releases the lock when the process ends, however it ends, so a lock left by a killed run is
simply taken over; the PID written in the file only names the holder in the refusal.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import checkpoint
from modelzoo.errors import UsageError

if TYPE_CHECKING:
    from modelzoo.recipe_file import Recipe

LOCK_FILE = ".lock"
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

#: Where each fit of a run ("fit", and "refit" with `train.refit`) keeps its backup, its history
#: and its TensorBoard logs.
FIT_FILES = {
    "fit": (BACKUP_DIR, HISTORY_FILE, "logs"),
    "refit": (REFIT_BACKUP_DIR, REFIT_HISTORY_FILE, "logs/refit"),
}
#: What a run that starts over in its folder removes first.
RUN_FILES = (
    BACKUP_DIR,
    HISTORY_FILE,
    "logs",
    SELECTION_FILE,
    REFIT_BACKUP_DIR,
    REFIT_HISTORY_FILE,
)


def is_interrupted(folder: Path) -> bool:
    """A run that saved progress (an epoch's backup, or a finished first fit before a refit) but did not finish."""
    saved = checkpoint.Backup(folder / BACKUP_DIR).exists() or (folder / SELECTION_FILE).exists()
    return saved and not (folder / METRICS_FILE).exists()


def is_finished(folder: Path) -> bool:
    """The run in `folder` ended and wrote its metrics.json."""
    return (folder / METRICS_FILE).exists()


def has_same_recipe(folder: Path, recipe: Recipe) -> bool:
    """The folder's recipe.json is `recipe`, wherever each was read from."""
    try:
        saved = json.loads((folder / RECIPE_FILE).read_text())
    except (OSError, ValueError):
        return False
    current = recipe.to_dict()
    return {k: v for k, v in saved.items() if k != "source"} == {
        k: v for k, v in current.items() if k != "source"
    }


def remove_backups(folder: Path) -> None:
    """Remove both fits' backups: the run has ended (finished or diverged) and resumes no more."""
    for name in (BACKUP_DIR, REFIT_BACKUP_DIR):
        shutil.rmtree(folder / name, ignore_errors=True)


def read_json(path: Path) -> dict[str, Any] | None:
    """A JSON file's content, or None when it is missing."""
    return json.loads(path.read_text()) if path.exists() else None


def write_json(path: Path, content: dict[str, Any]) -> None:
    """Write JSON via a temporary file and a rename, so a reader never sees half a file."""
    checkpoint.write_atomically(path, (json.dumps(content, indent=2) + "\n").encode())


class FolderBusy(UsageError):
    """Another live process is running in the folder (exit code 2)."""


class FolderLock:
    """An exclusive, non-blocking lock on a run folder, held until `release` (or the process ends)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise FolderBusy naming the process that holds it."""
        try:
            fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise UsageError(
                f"run folder {self.folder}: cannot write its lock file ({error.strerror}); "
                f"choose another folder"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise UsageError(
                    f"run folder {self.folder}: cannot lock it ({error.strerror})"
                ) from None
            raise FolderBusy(
                f"run folder {self.folder} is in use by process {holder(self.folder) or '(unknown)'}; "
                f"wait for it to finish or choose another folder"
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            os.close(fd)
            raise
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


def holder(folder: Path) -> int | None:
    """The PID recorded by the folder's current (or last) lock holder."""
    try:
        return int((folder / LOCK_FILE).read_text().strip())
    except (OSError, ValueError):
        return None


def try_lock(folder: Path) -> FolderLock | None:
    """The folder's lock if it is free now, else None."""
    lock = FolderLock(folder)
    try:
        lock.acquire()
    except (UsageError, OSError):  # busy, or not ours to lock (another user's folder, read-only)
        return None
    return lock


@contextlib.contextmanager
def claimed(
    recipe_name: str,
    runs_root: str | os.PathLike,
    run_dir: str | os.PathLike | None,
    fresh: bool,
    *,
    resumable: Callable[[Path], bool],
    same_recipe: Callable[[Path], bool],
    finished: Callable[[Path], bool],
    run_files: tuple[str, ...],
) -> Iterator[tuple[Path, bool]]:
    """Choose, lock and hold the run's folder for the block; yields (folder, whether it resumes).

    Without `run_dir`, the newest resumable run of the same recipe under `runs_root/<recipe>/`
    that no other process holds is resumed (unless `fresh`), else a new timestamped folder is
    made (never one another run made in the same second). An explicit `run_dir` that holds a
    finished run, or another recipe's files, is refused rather than overwritten; one in use by a
    live process is refused naming it. A folder this call made is removed again if the block
    fails before writing anything into it.
    """
    if run_dir is not None:
        folder = Path(run_dir)
        made = not folder.exists()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise UsageError(
                f"--run-dir {folder}: cannot create it ({error.strerror}); choose another folder"
            ) from None
        lock = FolderLock(folder)
        lock.acquire()
        try:
            resuming = _check_explicit(folder, fresh, resumable, same_recipe, finished, run_files)
        except BaseException:
            lock.release()
            raise
    else:
        folder, lock, resuming, made = _default(
            Path(runs_root) / recipe_name, fresh, resumable, same_recipe
        )
    try:
        yield folder, resuming
    except BaseException:
        if made and {p.name for p in folder.iterdir()} <= {LOCK_FILE}:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        lock.release()


def _check_explicit(folder: Path, fresh: bool, resumable, same_recipe, finished, run_files) -> bool:
    if finished(folder):
        raise UsageError(f"--run-dir {folder} holds a finished run; choose another folder")
    same = same_recipe(folder)
    if any(p.name != LOCK_FILE for p in folder.iterdir()) and not same and not fresh:
        raise UsageError(
            f"--run-dir {folder} holds files of another run; choose another folder or add --fresh"
        )
    resuming = same and resumable(folder) and not fresh
    if not resuming:  # also a run of this recipe stopped before its first backup
        for name in run_files:
            path = folder / name
            shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    return resuming


def _stamp_order(folder: Path) -> tuple[str, int]:
    """`20260101-120000-10` after `20260101-120000-9`: the stamp, then the number of the run in that second."""
    stamp, _, n = folder.name.partition("-")[2].partition("-")
    date = folder.name.split("-", 1)[0]
    return f"{date}-{stamp}", int(n) if n.isdigit() else 1


def _default(
    root: Path, fresh: bool, resumable, same_recipe
) -> tuple[Path, FolderLock, bool, bool]:
    if not fresh and root.is_dir():
        for folder in sorted(
            (p for p in root.iterdir() if p.is_dir()), key=_stamp_order, reverse=True
        ):
            if resumable(folder) and same_recipe(folder):
                lock = try_lock(folder)
                if lock is None:  # another process is resuming it
                    continue
                if resumable(folder):  # still, now that it is ours
                    return folder, lock, True, False
                lock.release()
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        lock = FolderLock(folder)
        lock.acquire()  # a folder this process just made: free
        return folder, lock, False, True
    raise UsageError(f"could not make a new run folder under {root}; clean it up or pass --run-dir")
