"""The export folder layout TF Serving reads: integer version folders under a model folder.

TF Serving's file-system storage path source
(tensorflow_serving/sources/storage_path/file_system_storage_path_source.cc) lists a model's
base path and takes a child as a version when its name parses as an int64
(`strings::safe_strto64`); every other name is skipped. Here a version is a folder whose name is
ASCII decimal digits that fit in an int64: `str.isdigit()` is not that rule (it is true for '²'
and other Unicode digits, which `int()` then rejects or reads as another number). TF Serving's
parser also allows surrounding spaces and a minus sign; no exporter writes those, and they are
skipped here. Of two names for one number ('7' and '007') the later in sorted order wins, as in
TF Serving.

Every question about version folders is answered here (`version_numbers`, `latest_version`,
`version_path`, `is_version_name`, `saved_model_folder`); nothing else scans a model folder.
An export's model card is at `card_path(folder)`.

The other runtimes' exports of a version (ONNX, LiteRT: `modelzoo.exporters`) live beside the
versions, never inside TF Serving's version folder, at the same path under `formats/`:

    <model>/3/                              the SavedModel TF Serving loads
    <model>/formats/3/model.onnx, ...       version 3 for ONNX Runtime and LiteRT
    <model>/candidates/<stamp>/             a candidate the gate kept back
    <model>/formats/candidates/<stamp>/     its other formats

`formats` is not an integer name, so TF Serving and `modelzoo serve` skip it (`formats_folder`).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from modelzoo.errors import ModelzooError

_DIGITS = re.compile(r"[0-9]+")
INT64_MAX = 2**63 - 1
SAVED_MODEL_FILE = "saved_model.pb"
#: Beside the versions: the folder of their other formats (`formats_folder`).
FORMATS_DIR = "formats"
#: Beside the versions: the exports the publishing gate kept back (`modelzoo.gate`).
CANDIDATES_DIR = "candidates"
#: An export's model card, beside its files (`modelzoo.export`, read by the gate and `promote`).
CARD_FILE = "model_card.json"

#: What a model folder's name may be (a recipe's export.name), in words.
MODEL_FOLDER_RULE = (
    "must be a folder name of letters, digits, '_', '.', '-' (not only digits, not '.' or '..')"
)


class NoSavedModel(ModelzooError):
    """A path that names no SavedModel: neither one itself nor a model folder with a version."""


def parse_version(name: str) -> int | None:
    """The version number a folder name stands for, or None if it is not a version."""
    if not _DIGITS.fullmatch(name):
        return None
    number = int(name)
    return number if number <= INT64_MAX else None


def version_folders(
    model_dir: str | os.PathLike, skipped: list[str] | None = None
) -> dict[int, Path]:
    """{version: folder} for the integer version folders under `model_dir`, in ascending order.

    Names of other folders (except hidden ones, like a publish's staging folder) are appended to
    `skipped` when it is given. A missing or unreadable `model_dir` has no versions.
    """
    folder = Path(model_dir)
    found: dict[int, Path] = {}
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return {}
    for child in children:
        try:
            if not child.is_dir():
                continue
        except OSError:
            continue
        version = parse_version(child.name)
        if version is None:
            if skipped is not None and not child.name.startswith("."):
                skipped.append(child.name)
            continue
        found[version] = child
    return dict(sorted(found.items()))


def is_model_folder_name(name: object) -> bool:
    """Whether `name` can be a model folder under the export dir: one plain path component that
    TF Serving would not take for a version (all digits) and that stays inside the export dir."""
    return (
        isinstance(name, str)
        and re.fullmatch(r"[A-Za-z0-9_.-]+", name) is not None
        and not name.isdigit()
        and name not in (".", "..")
    )


def is_version_name(name: str) -> bool:
    """Whether a folder of this name under a model folder is a version (TF Serving's rule)."""
    return parse_version(name) is not None


def version_numbers(model_dir: str | os.PathLike) -> list[int]:
    """The integer versions present under a model folder, ascending."""
    return list(version_folders(model_dir))


def latest_version(model_dir: str | os.PathLike) -> int | None:
    """The highest version under a model folder (the one TF Serving serves), or None."""
    return max(version_folders(model_dir), default=None)


def version_path(model_dir: str | os.PathLike, version: int) -> Path:
    """The folder of version `version`: the existing one ('007' for 7), else `model_dir/<version>`."""
    return version_folders(model_dir).get(version, Path(model_dir) / str(version))


def has_saved_model(folder: str | os.PathLike) -> bool:
    """Whether a folder holds a SavedModel (its saved_model.pb; the variables may still be coming)."""
    return (Path(folder) / SAVED_MODEL_FILE).is_file()


def saved_model_folder(path: str | os.PathLike) -> Path:
    """The SavedModel a path names: `path` itself if it holds one, else its newest version.

    Raises NoSavedModel (one line, naming what to give) when there is none.
    """
    folder = Path(path)
    if has_saved_model(folder):
        return folder
    versions = version_folders(folder)
    if not versions:
        raise NoSavedModel(
            f"{folder} holds no SavedModel and no integer version folder; give saved_models/NAME "
            "or saved_models/NAME/VERSION"
        )
    newest = versions[max(versions)]
    if not has_saved_model(newest):
        raise NoSavedModel(
            f"{newest} holds no saved_model.pb: not a SavedModel (still being written, or not an "
            "export)"
        )
    return newest


def formats_dir(model_dir: str | os.PathLike) -> Path:
    """The folder beside a model's versions that holds their other formats."""
    return Path(model_dir) / FORMATS_DIR


def formats_folder(folder: str | os.PathLike) -> Path:
    """Where the other formats of the SavedModel in `folder` (a version, candidate or staging folder
    under a model folder) are: the same path relative to the model folder, under `formats/`."""
    folder = Path(folder)
    if folder.parent.name == CANDIDATES_DIR:
        return formats_dir(folder.parent.parent) / CANDIDATES_DIR / folder.name
    return formats_dir(folder.parent) / folder.name


def card_path(folder: str | os.PathLike) -> Path:
    """Where an export's model card is: `<folder>/assets.extra/model_card.json`."""
    return Path(folder) / "assets.extra" / CARD_FILE


def read_card(folder: str | os.PathLike) -> dict | None:
    """An export's model card, or None when it is missing, unreadable or not a JSON object."""
    try:
        card = json.loads(card_path(folder).read_text())
    except (OSError, ValueError):
        return None
    return card if isinstance(card, dict) else None
