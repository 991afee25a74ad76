"""Export formats: what `export.publish` writes into a version folder, and how each is checked.

An exporter is a name, a `write(model, folder, *, name, samples)` that writes its files into the
staged version folder, and a `check(folder)` that raises a ModelzooError when they are not right.
`publish` runs every registered exporter's `write` (in registration order), writes the model card,
then runs every `check`, and renames the folder into place only when all pass; `promote` runs the
checks again. TF Serving's SavedModel (`modelzoo.saved_model`) is the one format registered here.

Adding a format: a module with its `write` and `check`, and one `register_exporter` line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelzoo import saved_model


@dataclass(frozen=True)
class Exporter:
    """One export format: its name, how it writes into a version folder, how it checks it."""

    name: str
    write: Callable[..., None]  # write(model, folder, *, name, samples)
    check: Callable[[Path], None]  # check(folder), raising a ModelzooError


#: The registered exporters by name, in the order they run.
EXPORTERS: dict[str, Exporter] = {}


def register_exporter(exporter: Exporter) -> Exporter:
    """Add an export format that every `publish` runs; its name must be new."""
    if exporter.name in EXPORTERS:
        raise ValueError(f"an exporter named {exporter.name!r} is already registered")
    EXPORTERS[exporter.name] = exporter
    return exporter


def unregister_exporter(name: str) -> None:
    """Remove an export format (tests registering a throwaway one)."""
    del EXPORTERS[name]


def write_all(model: Any, folder: Path, *, name: str, samples) -> None:
    """Run every registered exporter's `write` into the staged version folder."""
    for exporter in list(EXPORTERS.values()):
        exporter.write(model, folder, name=name, samples=samples)


def check_all(folder: Path) -> None:
    """Run every registered exporter's `check` on a version folder; the first failure raises."""
    for exporter in list(EXPORTERS.values()):
        exporter.check(folder)


register_exporter(Exporter("saved_model", saved_model.write, saved_model.check))
