"""Versioned export that TF Serving can pick up safely.

`publish(model, "saved_models", "mnist", card)` writes `saved_models/mnist/<N>/` where N is one
above the highest integer version there. Every registered export format (`modelzoo.exporters`:
TF Serving's SavedModel, `modelzoo.saved_model`) writes into a staging folder with a non-integer
name on the same filesystem, which TF Serving ignores; each format's check (for the SavedModel,
the session loader TF Serving uses, `modelzoo.verify`) must pass, and only then is the folder
renamed into place. An existing version is never overwritten.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import exporters, storage
from modelzoo.errors import ModelzooError, UsageError
from modelzoo.saved_model import signature_keys

if TYPE_CHECKING:
    import keras

STAGING_PREFIX = ".staging-"


class ExportError(ModelzooError):
    """The model could not be published (exit code 1)."""


def check_export_dir(export_dir: str | os.PathLike, name: str) -> None:
    """Raise UsageError unless `<export_dir>/<name>` is a folder this process can write in, or can be made.

    Run before any training or data loading, so a run that could not be published is refused at
    once instead of after it trained; nothing is created.
    """
    target = Path(export_dir) / name
    folder = next(
        f for f in (target, *target.parents) if os.path.lexists(f) or f == Path(f.anchor or ".")
    )
    problem = None
    if not folder.exists():
        problem = f"{folder} is a broken link"
    elif not folder.is_dir():
        problem = f"{folder} is a file, not a folder"
    elif not os.access(
        folder, os.W_OK | os.X_OK, effective_ids=os.access in os.supports_effective_ids
    ):
        problem = (
            f"{folder} is not writable"
            if folder == target
            else f"cannot create {target.relative_to(folder)} in {folder}: it is not writable"
        )
    if problem:
        raise UsageError(f"export dir {export_dir}: {problem}; choose another --export-dir")


def make_card(
    model: keras.Sequential,
    *,
    name: str,
    model_name: str,
    recipe: dict[str, Any],
    data: dict[str, Any],
    metrics: dict[str, Any],
    versions: dict[str, str],
    weights: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON card written beside an exported SavedModel: what it is, how it was trained, its contract."""
    from modelzoo.registry import model_card

    input_key, output_key = signature_keys(model)
    card = {
        "name": name,
        "recipe": recipe,
        "model": {k: v for k, v in model_card(model_name).to_dict().items() if k != "weights"},
        "parameters": model.count_params(),
        "signature": {
            "name": "serving_default",
            "inputs": {
                input_key: {
                    "dtype": str(model.inputs[0].dtype),
                    "shape": list(model.inputs[0].shape),
                }
            },
            "outputs": {output_key: {"dtype": "float32", "shape": list(model.outputs[0].shape)}},
        },
        "data": data,
        "metrics": metrics,
        "versions": versions,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if weights is not None:
        card["weights"] = weights
    return card


def publish_shipped(
    model_name: str,
    tag: str,
    export_dir: str | os.PathLike,
    name: str | None = None,
    formats: tuple[str, ...] = (exporters.SAVED_MODEL,),
    mirror: str | os.PathLike | None = None,
) -> Path:
    """Publish a zoo model with its shipped weights as a verified, versioned SavedModel; no training.

    The export is named like the recipe that trained the weights unless `name` says otherwise; its
    card carries the weights' record, and its samples are the dev inputs recorded with them.
    Other `formats` go beside it; the data set the weights were trained on is loaded (from
    `mirror`) only for a format that needs it (int8: calibration and test examples).
    """
    from modelzoo import weights as shipped
    from modelzoo.provenance import package_versions
    from modelzoo.registry import create_model

    entry = shipped.STORE.get(model_name, tag)
    model = create_model(model_name, weights=tag)
    record = {
        k: v for k, v in entry.to_dict().items() if k not in ("recipe_settings", "metrics", "data")
    }
    card = make_card(
        model,
        name=name or entry.recipe_settings.get("export", {}).get("name", model_name),
        model_name=model_name,
        recipe=entry.recipe_settings,
        data=entry.data,
        metrics=entry.metrics,
        versions=package_versions(),
        weights=record,
    )
    data = {}
    if any(exporters.EXPORTERS[f].needs for f in formats):
        from modelzoo import data as data_module

        splits = data_module.load(entry.data["name"], batch_size=256, mirror=mirror)
        data = exporters.data_for_formats(formats, splits)
    return publish(
        model, export_dir, card["name"], card, shipped.STORE.samples(entry), formats=formats, **data
    )


def publish(
    model: keras.Sequential,
    export_dir: str | os.PathLike,
    name: str,
    card: dict[str, Any],
    samples,
    *,
    candidate: bool = False,
    formats: tuple[str, ...] = (exporters.SAVED_MODEL,),
    calibration=None,
    evaluation=None,
) -> Path:
    """Export to `<export_dir>/<name>/<next version>/` atomically; return the version folder.

    With `candidate`, the verified export goes to `<export_dir>/<name>/candidates/<stamp>/`
    instead: kept, but under no integer name, so no server loads it (`modelzoo.gate`).

    Each chosen format (`modelzoo.exporters`; TF Serving's SavedModel, always, which records
    `samples`, a batch of real inputs, with the Keras outputs for them and as warmup requests)
    writes into a staging folder (the other formats into its formats folder,
    `storage.formats_folder`); every format's check must pass, what they measured goes into
    `card` (JSON data) under "formats", the card is written as `assets.extra/model_card.json`,
    and only then is the SavedModel renamed into place, its other formats right after.
    `calibration` (training inputs) and `evaluation` ((inputs, labels) of the test split) are
    what an int8 export is quantized and judged with.
    """
    model_dir = Path(export_dir) / name
    made = [f for f in (storage.formats_dir(model_dir), model_dir) if not f.exists()]
    model_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(model_dir)
    staging = Path(
        tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{_host()}-{os.getpid()}-", dir=model_dir)
    )
    formats_staging = storage.formats_folder(staging)
    _STAGED_HERE.update((staging, formats_staging))
    umask = os.umask(0)
    os.umask(umask)
    staging.chmod(
        0o777 & ~umask
    )  # mkdtemp makes it 0700: a server running as another user could not read it
    context = exporters.ExportContext(name, samples, calibration=calibration, evaluation=evaluation)
    try:
        exporters.write_all(model, staging, formats, context)
        card = {**card, "formats": exporters.check_all(staging, formats, context)}
        storage.card_path(staging).parent.mkdir(exist_ok=True)
        storage.card_path(staging).write_text(json.dumps(card, indent=2) + "\n")
        if candidate:
            return _rename_to_candidate(staging, model_dir)
        return _rename_to_next_version(staging, model_dir)
    finally:
        _STAGED_HERE.difference_update((staging, formats_staging))
        for folder in (staging, formats_staging):
            if folder.exists():
                shutil.rmtree(folder, ignore_errors=True)
        for folder in made:  # made here and left empty by a failure
            try:
                folder.rmdir()
            except OSError:  # not empty (versions, candidates) or already gone
                pass


def remove_stale_staging(model_dir: Path) -> list[Path]:
    """Remove the staging folders under `model_dir` whose exporting process has died; the removed.

    A staging folder is named `.staging-<host>-<pid>-<random>` by the process writing it. One of
    this host whose process is gone (or whose PID is now this process's, which did not make it:
    a restarted container) was left by a kill and will never be published. Other hosts' folders
    (a shared export dir) are left to them.
    """
    removed = []
    pattern = rf"{re.escape(STAGING_PREFIX)}{re.escape(_host())}-(\d+)-[^-]+"
    staged = [
        *model_dir.glob(f"{STAGING_PREFIX}*"),
        *storage.formats_dir(model_dir).glob(f"{STAGING_PREFIX}*"),
    ]
    for path in staged:
        found = re.fullmatch(pattern, path.name)
        if not found or path in _STAGED_HERE:
            continue
        pid = int(found.group(1))
        if pid == os.getpid() or not _process_alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


#: The staging folders this process made (and may still be writing).
_STAGED_HERE: set[Path] = set()


def _host() -> str:
    """This machine's name as it may appear in a folder name."""
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "host"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def _rename_to_next_version(staging: Path, model_dir: Path) -> Path:
    """Move a complete export to the next free integer version; never replace an existing one.

    No empty version folder is ever visible: rename fails on a non-empty target (another
    export got there first), and then the next number is tried. A number whose formats folder
    exists (left by a version removed by hand) is not reused.
    """

    def next_version() -> Path:
        newest = max(
            storage.latest_version(model_dir) or 0,
            storage.latest_version(storage.formats_dir(model_dir)) or 0,
        )
        return storage.version_path(model_dir, newest + 1)

    targets = (next_version() for _ in range(100))
    return _rename_to_first_free(staging, targets, f"a new version under {model_dir}")


def _rename_to_first_free(staging: Path, targets, what: str) -> Path:
    """Rename `staging` to the first of `targets` that is free (rename never replaces a non-empty
    folder), then its formats folder, if it has one, to the target's."""
    for target in targets:
        if target.exists() or storage.formats_folder(target).exists():
            continue
        try:
            os.rename(staging, target)
        except OSError as error:
            if error.errno in (errno.EEXIST, errno.ENOTEMPTY):
                continue
            raise ExportError(f"could not move the export into {target}: {error}") from None
        _move_formats(storage.formats_folder(staging), storage.formats_folder(target))
        return target
    raise ExportError(f"could not claim {what}")


def _move_formats(source: Path, target: Path) -> None:
    """Rename a formats folder into place beside its just-published SavedModel."""
    if not source.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.rename(source, target)
    except OSError as error:
        raise ExportError(
            f"the SavedModel is published, but its other formats could not be moved into {target}: "
            f"{error}"
        ) from None


CANDIDATES_DIR = storage.CANDIDATES_DIR


def _rename_to_candidate(staging: Path, model_dir: Path) -> Path:
    """Move a complete export to `candidates/<YYYYmmdd-HHMMSS>-<pid>[-n]` under the model folder.

    `candidates` is not an integer name: TF Serving and `modelzoo serve` never take it for a version.
    """
    folder = model_dir / CANDIDATES_DIR
    folder.mkdir(exist_ok=True)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    targets = (folder / (stem if n == 1 else f"{stem}-{n}") for n in range(1, 100))
    return _rename_to_first_free(staging, targets, f"a candidate folder under {folder}")


def promote(candidate: str | os.PathLike) -> Path:
    """Publish a kept candidate (`<name>/candidates/<stamp>`) as the next version of its model; return it.

    It was verified when it was staged; it is checked again (files may have changed since), its
    card records the promotion, and it is renamed into place like any export.
    """
    path = Path(candidate)
    if path.parent.name != CANDIDATES_DIR or not storage.has_saved_model(path):
        raise ExportError(
            f"{path} is not a candidate export (<export dir>/<name>/{CANDIDATES_DIR}/<stamp>/ with a saved_model.pb)"
        )
    exporters.check_all(path, exporters.formats_present(path))
    card = storage.read_card(path)
    if card is not None and isinstance(card.get("publish"), dict):
        card["publish"].update(
            decision="published",
            forced=True,
            reason=f"promoted by hand from candidate {path.name}; gate said: {card['publish'].get('reason', '')}",
        )
        temporary = storage.card_path(path).with_suffix(".tmp")
        temporary.write_text(json.dumps(card, indent=2) + "\n")
        os.replace(temporary, storage.card_path(path))
    return _rename_to_next_version(path, path.parent.parent)
