"""A fit's history CSV (Keras' CSVLogger, one row per epoch): read it, cut it back on resume, and
the epoch count the dev split chose from it."""

from __future__ import annotations

import csv
from pathlib import Path

from modelzoo import checkpoint


def read_history(path: Path) -> list[dict[str, float]]:
    """The per-epoch rows of history.csv (all epochs, across resumes).

    Keras' CSVLogger writes "NA" in val_ columns of a fit without validation data; those are left out.
    """
    if not path.exists():
        return []
    with path.open() as f:
        return [{k: float(v) for k, v in row.items() if v != "NA"} for row in csv.DictReader(f)]


def keep_history_rows(path: Path, epochs: int) -> None:
    """Cut a history CSV to its header and the rows of the first `epochs` epochs (none: remove it).

    A fit killed after an epoch's row was logged but before its backup was saved has logged a row
    the resumed fit will log again; a row cut short by the kill is dropped too.
    """
    if not path.exists():
        return
    if epochs == 0:
        path.unlink()
        return
    lines = path.read_text().splitlines(keepends=True)
    if not lines:  # nothing was logged (or a power cut lost it): the fit logs anew
        path.unlink()
        return
    header, rows = lines[0], lines[1:]
    width = header.count(",")
    kept = [
        row
        for row in rows
        if row.endswith("\n")
        and row.count(",") == width
        and row.split(",", 1)[0].isdigit()
        and int(row.split(",", 1)[0]) < epochs
    ]
    if kept != rows:
        checkpoint.write_atomically(path, "".join([header, *kept]).encode())


def selected_epochs(rows: list[dict[str, float]], settings) -> int:
    """The epoch count the dev split chose: early stopping's best epoch (lowest dev loss), else all epochs run."""
    if settings.early_stopping_patience and rows and "val_loss" in rows[0]:
        losses = [row["val_loss"] for row in rows]
        return losses.index(min(losses)) + 1
    return len(rows)
