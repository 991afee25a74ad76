"""The model repository: the served versions of every model under an export folder, and their labels.

Polled for new versions (TF Serving's "latest" policy, or a model config file's policies and
version labels), swapped in without failing a request in flight; a version that fails to load
never replaces one being served.
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
from modelzoo.serving.model_config import ModelPolicy
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

    With `config` ({name: ModelPolicy}, from a model config file) only those models are served,
    each with its version policy and version labels. A version is loaded once its folder has
    `saved_model.pb` and has not changed between two polls; one that fails to load (half-copied,
    corrupt) is logged, retried when its files change, and never replaces a version being served.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        poll_seconds: float = 1.0,
        config: dict[str, ModelPolicy] | None = None,
    ):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ModelzooError(
                f"{self.root} is not a folder; give the export folder, e.g. saved_models/"
            )
        self.poll_seconds = poll_seconds
        self.config = config
        self._served: dict[str, dict[int, Servable]] = {}
        self._ended: dict[str, set[int]] = {}  # versions served once, since unloaded (state END)
        self._seen: dict[tuple[str, int], tuple] = {}
        self._failed: dict[tuple[str, int], tuple[tuple, str]] = {}
        self._skipped: set[tuple[str, str]] = set()
        self._leases: dict[Servable, int] = {}  # requests running on each version
        self._retired: set[Servable] = set()  # unloaded versions that requests still hold
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self, settle: bool = True) -> None:
        """Look for new versions once; with `settle`, load only versions unchanged since the last look."""
        if self.config is not None:
            folders = [self.root / name for name in self.config]
        else:
            folders = sorted(
                p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
            )
        for folder in folders:
            try:
                self._refresh_model(folder, settle)
            except Exception as error:  # noqa: BLE001 -- one model's trouble never stops the others
                log.warning("cannot scan %s: %s: %s", folder, type(error).__name__, error)

    def _refresh_model(self, folder: Path, settle: bool) -> None:
        name = folder.name
        skipped: list[str] = []
        versions = storage.version_folders(folder, skipped) if folder.is_dir() else {}
        for entry in skipped:
            if entry in (storage.FORMATS_DIR, storage.CANDIDATES_DIR):
                continue  # the zoo's own folders beside the versions: other formats, candidates
            if (name, entry) not in self._skipped:
                self._skipped.add((name, entry))
                log.info(
                    "%s: ignoring folder %r, not a version (TF Serving's versions are ASCII digits)",
                    name,
                    entry,
                )
        policy = (self.config or {}).get(name, ModelPolicy())
        served = self._served.get(name, {})
        if policy.specific is not None:
            versions = {v: p for v, p in versions.items() if v in policy.specific}
        limit = len(versions) if policy.num_versions is None else policy.num_versions
        keep: dict[int, Servable] = {}
        for version, path in sorted(versions.items(), reverse=True):
            if policy.specific is None and len(keep) >= limit:
                break
            if version in served:
                keep[version] = served[version]
            elif storage.has_saved_model(path):
                servable = self._try_load(name, version, path, settle)
                if servable is not None:
                    keep[version] = servable
        with self._lock:
            old = self._served.get(name, {})
            if keep:
                self._served[name] = keep
            else:
                self._served.pop(name, None)
            gone = [servable for version, servable in old.items() if version not in keep]
            self._ended.setdefault(name, set()).update(s.version for s in gone)
            for version in keep:
                self._ended[name].discard(version)
            close = [servable for servable in gone if self._retire(servable)]
        for servable in gone:
            log.info("no longer serving %s version %d", name, servable.version)
        for servable in close:
            servable.close()

    def _try_load(self, name: str, version: int, path: Path, settle: bool) -> Servable | None:
        key = (name, version)
        try:
            snapshot = _snapshot(path)
        except OSError:
            return None
        previous, self._seen[key] = self._seen.get(key), snapshot
        if settle and previous != snapshot:
            return None  # still being written, or first sight: look again next poll
        if key in self._failed and self._failed[key][0] == snapshot:
            return None
        try:
            servable = Servable(name, version, path)
        except Exception as error:  # noqa: BLE001 -- any load failure keeps the old version serving
            message = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            self._failed[key] = (snapshot, message)
            log.warning("not serving %s version %d: %s", name, version, message)
            return None
        self._failed.pop(key, None)
        log.info("serving %s version %d from %s", name, version, path)
        return servable

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
    def lease(
        self, name: str, version: int | None = None, label: str | None = None
    ) -> Iterator[Servable]:
        """The served version of `name` (or `version`, or `label`'s), open until the block ends."""
        with self._lock:
            servable = self._find(name, version, label)
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
        """Load what is there now, check the version labels, then poll in a background thread.

        A label naming a version that is not served stops the start, as TF Serving's
        UpdateModelVersionLabelMap (tensorflow_serving/model_servers/server_core.cc) does.
        """
        self.refresh(settle=False)
        for name, policy in (self.config or {}).items():
            for version in policy.labels.values():
                if version not in self._served.get(name, {}):
                    self.stop()
                    raise ModelzooError(
                        f"Request to assign label to version {version} of model {name}, which "
                        "is not currently available for inference"
                    )
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
            idle = [
                servable
                for versions in self._served.values()
                for servable in versions.values()
                if self._retire(servable)
            ]
            self._served.clear()
        for servable in idle:
            servable.close()

    def models(self) -> dict[str, int]:
        """{name: newest served version}."""
        with self._lock:
            return {name: max(versions) for name, versions in sorted(self._served.items())}

    def versions(self, name: str) -> list[int]:
        """The served versions of `name`, newest first."""
        with self._lock:
            return sorted(self._served.get(name, {}), reverse=True)

    def get(self, name: str, version: int | None = None, label: str | None = None) -> Servable:
        """The served version (for its metadata; run it inside `lease`, which keeps it open)."""
        with self._lock:
            return self._find(name, version, label)

    def _find(self, name: str, version: int | None, label: str | None = None) -> Servable:
        """ServableRequestFromModelSpec and GetServableHandle (server_core.cc), their texts."""
        if not name:
            raise ServingError("ModelSpec has no name specified.")
        if label is not None:
            version = ((self.config or {}).get(name) or ModelPolicy()).labels.get(label)
            if version is None:
                raise ServingError(f"Unrecognized servable version label: {label}")
        versions = self._served.get(name, {})
        if version is None and versions:
            return versions[max(versions)]
        if version is not None and version in versions:
            return versions[version]
        raise ServingError(
            f"Servable not found for request: Latest({name})"
            if version is None
            else f"Servable not found for request: Specific({name}, {version})",
            404,
        )

    def status(self, name: str, version: int | None = None) -> list[tuple[int, str]]:
        """[(version, state)] newest first, as GetModelStatusWithModelSpec
        (tensorflow_serving/model_servers/get_model_status_impl.cc): served versions AVAILABLE,
        unloaded ones END; a version label is not looked at."""
        with self._lock:
            states = {v: "END" for v in self._ended.get(name, ())}
            states.update({v: "AVAILABLE" for v in self._served.get(name, {})})
        if version is not None:
            if version not in states:
                raise ServingError(f"Could not find version {version} of model {name}", 404)
            return [(version, states[version])]
        if not states:
            raise ServingError(f"Could not find any versions of model {name}", 404)
        return sorted(states.items(), reverse=True)
