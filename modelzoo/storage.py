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
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_DIGITS = re.compile(r"[0-9]+")
INT64_MAX = 2**63 - 1


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
