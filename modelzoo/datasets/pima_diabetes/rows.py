"""The shipped Pima CSV as arrays, and its fixed stratified 60/20/20 split (NumPy only)."""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np

from modelzoo.datasets.pima_diabetes import FEATURE_NAMES

CSV_FILE = "pima-indians-diabetes.csv"
SPLIT_FRACTIONS = {"train": 0.6, "dev": 0.2, "test": 0.2}
SPLIT_SEED = 0


def read_rows() -> tuple[np.ndarray, np.ndarray]:
    """The shipped CSV as (features float32 [768, 8], labels int64 [768])."""
    with resources.files(__package__).joinpath(CSV_FILE).open() as f:
        table = np.array(
            [[float(v) for v in row] for row in csv.reader(f) if row], dtype=np.float64
        )
    return table[:, : len(FEATURE_NAMES)].astype(np.float32), table[:, len(FEATURE_NAMES)].astype(
        np.int64
    )


def stratified_split(labels: np.ndarray, seed: int = SPLIT_SEED) -> dict[str, np.ndarray]:
    """Row indices of each split, keeping the class balance of the whole set in every split."""
    rng = np.random.default_rng(seed)
    chosen: dict[str, list[np.ndarray]] = {name: [] for name in SPLIT_FRACTIONS}
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        train_end = round(len(rows) * SPLIT_FRACTIONS["train"])
        dev_end = train_end + round(len(rows) * SPLIT_FRACTIONS["dev"])
        for name, part in zip(SPLIT_FRACTIONS, np.split(rows, [train_end, dev_end])):
            chosen[name].append(part)
    return {name: np.sort(np.concatenate(parts)) for name, parts in chosen.items()}
