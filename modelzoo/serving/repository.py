"""The model repository: the newest complete version of every model under an export folder.

Polled for new versions (TF Serving's "latest" policy), swapped in without failing a request in
flight; a version that fails to load never replaces the one being served.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from modelzoo import storage
from modelzoo.errors import ModelzooError
from modelzoo.serving.protocol import ServingError
from modelzoo.serving.servable import Servable

log = logging.getLogger("modelzoo.serving")


def _snapshot(folder: Path) -> tuple:
    """(path, size, mtime) of every file below a version folder: unchanged over a poll = not being written."""
    entries = []
    for root, _, files in os.walk(folder):
        for file in files:
            stat = (Path(root) / file).stat()
            entries.append(
                (os.path.relpath(Path(root) / file, folder), stat.st_size, stat.st_mtime_ns)
            )
    return tuple(sorted(entries))


class ModelRepository:
    """Serves the newest version of each model folder under `root` (TF Serving's "latest" policy).

    A version is loaded once its folder has `saved_model.pb` and has not changed between two polls;
    one that fails to load (half-copied, corrupt) is logged, retried when its files change, and
    never replaces the version being served.
    """

    def __init__(self, root: str | os.PathLike, poll_seconds: float = 1.0):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ModelzooError(
                f"{self.root} is not a folder; give the export folder, e.g. saved_models/"
            )
        self.poll_seconds = poll_seconds
        self._served: dict[str, Servable] = {}
        self._seen: dict[tuple[str, int], tuple] = {}
        self._failed: dict[tuple[str, int], tuple[tuple, str]] = {}
        self._skipped: set[tuple[str, str]] = set()
        self._leases: dict[Servable, int] = {}  # requests running on each version
        self._retired: set[Servable] = set()  # replaced versions that requests still hold
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self, settle: bool = True) -> None:
        """Look for new versions once; with `settle`, load only versions unchanged since the last look."""
        for folder in sorted(
            p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            try:
                self._refresh_model(folder, settle)
            except Exception as error:  # noqa: BLE001 -- one model's trouble never stops the others
                log.warning("cannot scan %s: %s: %s", folder, type(error).__name__, error)

    def _refresh_model(self, folder: Path, settle: bool) -> None:
        skipped: list[str] = []
        versions = storage.version_folders(folder, skipped)
        for name in skipped:
            if (folder.name, name) not in self._skipped:
                self._skipped.add((folder.name, name))
                log.info(
                    "%s: ignoring folder %r, not a version (TF Serving's versions are ASCII digits)",
                    folder.name,
                    name,
                )
        current = self._served.get(folder.name)
        for version, path in sorted(versions.items(), reverse=True):
            if current is not None and version <= current.version:
                break
            if not storage.has_saved_model(path):
                continue
            if self._try_load(folder.name, version, path, settle):
                break

    def _try_load(self, name: str, version: int, path: Path, settle: bool) -> bool:
        key = (name, version)
        try:
            snapshot = _snapshot(path)
        except OSError:
            return False
        previous, self._seen[key] = self._seen.get(key), snapshot
        if settle and previous != snapshot:
            return False  # still being written, or first sight: look again next poll
        if key in self._failed and self._failed[key][0] == snapshot:
            return False
        try:
            servable = Servable(name, version, path)
        except Exception as error:  # noqa: BLE001 -- any load failure keeps the old version serving
            message = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            self._failed[key] = (snapshot, message)
            log.warning("not serving %s version %d: %s", name, version, message)
            return False
        with self._lock:
            old, self._served[name] = self._served.get(name), servable
            close_old = old is not None and self._retire(old)
        self._failed.pop(key, None)
        log.info("serving %s version %d from %s", name, version, path)
        if close_old:
            old.close()
        return True

    def _retire(self, servable: Servable) -> bool:
        """Mark a version no longer served (lock held); True if no request holds it, so close it now.

        Otherwise the last request to release it closes it: a version switch never fails a request
        in flight, as TF Serving unloads a version only once no ServableHandle refers to it
        (tensorflow_serving/core/servable_handle.h).
        """
        if self._leases.get(servable):
            self._retired.add(servable)
            return False
        return True

    @contextmanager
    def lease(self, name: str, version: int | None = None) -> Iterator[Servable]:
        """The served version of `name` (or `version`), kept open until the `with` block ends."""
        with self._lock:
            servable = self._find(name, version)
            self._leases[servable] = self._leases.get(servable, 0) + 1
        try:
            yield servable
        finally:
            with self._lock:
                count = self._leases.pop(servable) - 1
                if count:
                    self._leases[servable] = count
                close = not count and servable in self._retired
                if close:
                    self._retired.discard(servable)
            if close:
                servable.close()

    def start(self) -> None:
        """Load what is there now, then poll for new versions in a background thread."""
        self.refresh(settle=False)
        self._thread = threading.Thread(
            target=self._poll, name="modelzoo-model-poller", daemon=True
        )
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception as error:  # noqa: BLE001 -- the poller outlives any one bad poll
                log.warning("cannot scan %s: %s: %s", self.root, type(error).__name__, error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            idle = [servable for servable in self._served.values() if self._retire(servable)]
            self._served.clear()
        for servable in idle:
            servable.close()

    def models(self) -> dict[str, int]:
        """{name: served version}."""
        with self._lock:
            return {name: s.version for name, s in sorted(self._served.items())}

    def get(self, name: str, version: int | None = None) -> Servable:
        """The served version (for its metadata; run it inside `lease`, which keeps it open)."""
        with self._lock:
            return self._find(name, version)

    def _find(self, name: str, version: int | None) -> Servable:
        servable = self._served.get(name)
        if servable is None:
            raise ServingError(
                f"Servable not found for request: Latest({name})"
                if version is None
                else f"Servable not found for request: Specific({name}, {version})",
                404,
            )
        if version is not None and version != servable.version:
            raise ServingError(f"Servable not found for request: Specific({name}, {version})", 404)
        return servable

    def status(self, name: str, version: int | None = None) -> dict:
        """The GET /v1/models/NAME answer: the state of the served version."""
        with self._lock:
            servable = self._served.get(name)
        if servable is None:
            raise ServingError(f"Could not find any versions of model {name}", 404)
        if version is not None and version != servable.version:
            raise ServingError(f"Could not find version {version} of model {name}", 404)
        return {
            "model_version_status": [
                {
                    "version": str(servable.version),
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
            ]
        }
