"""tensorflow-datasets sources: a local mirror of the original files, or a checked download.

With internet, tfds downloads a data set; without, point a mirror at a folder whose `<name>/`
subfolder holds the original files (`MODELZOO_DATA_MIRROR` or `--data-mirror`): modelzoo checks
them against the sha256 that tfds registers and hands them to tfds as its manual_dir. Either way
tfds prepares the data once into its data dir (`TFDS_DATA_DIR`, default ~/tensorflow_datasets)
and later loads reuse it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import logging
import os
import shutil
import socket
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from modelzoo.datasets.registry import SPLITS, DatasetSpec
from modelzoo.errors import DataError

if TYPE_CHECKING:
    import tensorflow_datasets as tfds

MIRROR_ENV = "MODELZOO_DATA_MIRROR"
NETWORK_TIMEOUT_S = 5.0
log = logging.getLogger(__name__)


def resolve_mirror(mirror: str | os.PathLike | None = None) -> Path | None:
    """The mirror folder: the argument, else $MODELZOO_DATA_MIRROR, else None (download)."""
    origin = "--data-mirror"
    if mirror is None or mirror == "":
        mirror, origin = os.environ.get(MIRROR_ENV) or None, MIRROR_ENV
    if mirror is None:
        return None
    path = Path(mirror).expanduser().resolve()
    if not path.is_dir():
        raise DataError(
            f"the data mirror {path} (from {origin}) is not a folder; fix the path or unset it to download"
        )
    return path


def load_tfds(
    spec: DatasetSpec, mirror: Path | None, data_dir, max_examples: int | None = None
) -> tuple[dict, str]:
    """Prepare the tfds data set if needed and open its three splits (unbatched, supervised; the
    first `max_examples` of each, if given)."""
    import tensorflow_datasets as tfds

    if spec.tfds_module is not None:
        importlib.import_module(spec.tfds_module)  # registers the builder with tfds
    if not sys.stderr.isatty():
        tfds.disable_progress_bar()

    builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
    if not is_complete(builder):
        with preparing(builder):
            # Another process may have prepared it while this one waited for the lock.
            builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
            if not is_complete(builder):
                builder = _prepare(builder, spec, mirror, data_dir)
    datasets = {
        split: in_memory(builder, tfds_split, max_examples)
        for split, tfds_split in zip(SPLITS, spec.splits)
    }
    return datasets, str(builder.data_path)


def in_memory(builder: tfds.core.DatasetBuilder, split: str, max_examples: int | None = None):
    """A split (its first `max_examples`, if given) decoded once into memory and served from
    there (unbatched, supervised).

    Read record by record while training runs, the first epoch waits on tfds' parsing and
    decoding (~26k examples/s here, slower than a small model trains); decoded up front, every
    epoch reads from memory. The zoo's tfds data sets are small (MNIST: 55 MB decoded).
    """
    import numpy as np
    import tensorflow as tf
    import tensorflow_datasets as tfds

    records = builder.as_dataset(split=split, as_supervised=True, shuffle_files=False)
    if max_examples is not None:
        records = records.take(max_examples)
    batches = list(tfds.as_numpy(records.batch(4096)))
    if not batches:
        return records
    inputs, targets = (np.concatenate(parts) for parts in zip(*batches))
    return tf.data.Dataset.from_tensor_slices((inputs, targets))


def is_complete(builder: tfds.core.DatasetBuilder) -> bool:
    """Prepared: dataset_info.json and features.json present and every shard it lists on disk."""
    if not builder.is_prepared():
        return False
    return all(
        Path(path).exists() for split in builder.info.splits.values() for path in split.filepaths
    )


@contextlib.contextmanager
def preparing(builder: tfds.core.DatasetBuilder) -> Iterator[None]:
    """Hold the lock that one process takes while it prepares a data set into a data dir.

    tfds writes into a private `incomplete.*` folder and renames it into place when done, so two
    processes preparing the same data set at once (runs started together, parallel tests) both
    do the work and the second rename fails. With the lock, the others wait (saying so) and then
    find it done.
    """
    import filelock

    data_dir = Path(os.fspath(builder.data_path)).parents[1]  # <data dir>/<name>/<version>
    path = data_dir / f".{builder.name}.prepare.lock"
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(path)
        try:
            lock.acquire(timeout=0)
        except filelock.Timeout:
            log.warning(
                "waiting for another process that is preparing %s in %s (lock file %s)",
                builder.name,
                data_dir,
                path,
            )
            lock.acquire()
    except (OSError, NotImplementedError) as error:  # read-only, or no file locks there
        raise DataError(
            f"{builder.name} is not prepared in {data_dir} and that folder cannot be written "
            f"({error.__class__.__name__}: {error}); point TFDS_DATA_DIR at a writable folder"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _prepare(builder, spec: DatasetSpec, mirror: Path | None, data_dir):
    """Check the sources (fail fast, one line), then let tfds download or read the mirror."""
    import tensorflow_datasets as tfds
    from tensorflow_datasets.core.download.download_manager import NonMatchingChecksumError

    if builder.data_path.exists():
        # tfds writes into an `incomplete.*` folder and renames it when done, but treats any
        # existing version folder as finished. One without its info or shards is left over from
        # an interrupted copy or preparation: remove it and prepare afresh.
        log.warning(
            "removing the incomplete data folder %s and preparing %s again",
            builder.data_path,
            spec.name,
        )
        shutil.rmtree(builder.data_path)
        builder = tfds.builder(spec.tfds_name, data_dir=data_dir)

    download_config = None
    expected = list(builder.url_infos.values()) if builder.url_infos else []
    if expected and mirror is not None:
        folder = mirror / spec.name
        _verify_mirror_files(spec, folder, expected)
        download_config = tfds.download.DownloadConfig(manual_dir=str(folder))
    elif expected:
        _check_reachable(spec, builder, expected)
    try:
        builder.download_and_prepare(download_config=download_config)
    except NonMatchingChecksumError as error:
        raise DataError(
            f"{spec.name}: a downloaded file does not match its registered sha256: {str(error).splitlines()[0]}"
        ) from None
    return builder


def _verify_mirror_files(spec: DatasetSpec, folder: Path, expected) -> None:
    """Every registered file present in the mirror with the registered size and sha256."""
    names = [info.filename for info in expected]
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DataError(
            f"{spec.name}: the mirror folder {folder} lacks {', '.join(missing)}; copy the original "
            f"files there ({', '.join(names)}) or point {MIRROR_ENV} / --data-mirror at a mirror that has them"
        )
    for info in expected:
        path = folder / info.filename
        size = path.stat().st_size
        if size != info.size:
            raise DataError(
                f"{spec.name}: mirror file {path} has {size} bytes, the registered original {info.size}; "
                f"replace it with an intact copy"
            )
        digest = _sha256(path)
        if digest != info.checksum:
            raise DataError(
                f"{spec.name}: mirror file {path} has sha256 {digest[:16]}..., the registered original "
                f"{info.checksum[:16]}...; replace it with an intact copy"
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_reachable(spec: DatasetSpec, builder, expected) -> None:
    """Fail within seconds when the download host cannot be reached, instead of tfds' minutes of retries."""
    url = next(iter(builder.url_infos))
    target = urllib.parse.urlsplit(urllib.request.getproxies().get("https", url))
    host, port = target.hostname, target.port or (443 if target.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S).close()
    except OSError as error:
        files = ", ".join(info.filename for info in expected)
        raise DataError(
            f"{spec.name} is not prepared in {builder.data_dir} and {host} cannot be reached "
            f"({error.__class__.__name__}: {error}); to work offline put {files} in "
            f"<mirror>/{spec.name}/ and set {MIRROR_ENV}=<mirror> or pass --data-mirror <mirror>"
        ) from None
