"""Pima Indians diabetes as a tensorflow-datasets builder, from the CSV shipped beside this file.

768 women of Pima heritage, 8 numeric features, class 1 = tested positive for diabetes (268).
Source and column meanings: `pima-indians-diabetes.names` (NIDDK via the UCI repository).

Missing values: in glucose, blood pressure, skin thickness, insulin and BMI a 0 means "not
measured" (5, 35, 227, 374 and 11 rows). The builder keeps them as 0, exactly as the file has
them: a served model then takes the same raw rows it was trained on, with no imputation step
that training and serving could disagree on. Scaling is a Normalization layer inside the model.

Splits are fixed and stratified by class: 60% train, 20% dev, 20% test, drawn with a constant
seed, so every user gets the same rows in each split.
"""

from __future__ import annotations

import csv
from importlib import resources

import numpy as np
import tensorflow_datasets as tfds

FEATURE_NAMES = (
    "pregnancies",
    "glucose",
    "blood_pressure",
    "skin_thickness",
    "insulin",
    "bmi",
    "diabetes_pedigree",
    "age",
)
CSV_FILE = "pima-indians-diabetes.csv"
SPLIT_FRACTIONS = {"train": 0.6, "dev": 0.2, "test": 0.2}
SPLIT_SEED = 0


def read_rows() -> tuple[np.ndarray, np.ndarray]:
    """The shipped CSV as (features float32 [768, 8], labels int64 [768])."""
    with resources.files(__package__).joinpath(CSV_FILE).open() as f:
        table = np.array(
            [[float(v) for v in row] for row in csv.reader(f) if row], dtype=np.float64
        )
    return table[:, :8].astype(np.float32), table[:, 8].astype(np.int64)


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


class PimaDiabetes(tfds.core.GeneratorBasedBuilder):
    """Pima Indians diabetes: 8 clinical measurements -> tested positive for diabetes or not."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Original 768 rows; fixed stratified 60/20/20 train/dev/test."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=__doc__,
            features=tfds.features.FeaturesDict(
                {
                    "features": tfds.features.Tensor(shape=(8,), dtype=np.float32),
                    "label": tfds.features.ClassLabel(names=["negative", "positive"]),
                }
            ),
            supervised_keys=("features", "label"),
            homepage="https://archive.ics.uci.edu/dataset/34/diabetes",
            citation=(
                "Smith, J. W., Everhart, J. E., Dickson, W. C., Knowler, W. C., Johannes, R. S. "
                "(1988). Using the ADAP learning algorithm to forecast the onset of diabetes "
                "mellitus. Proc. Symposium on Computer Applications and Medical Care, 261-265."
            ),
        )

    def _split_generators(self, dl_manager: tfds.download.DownloadManager):
        features, labels = read_rows()
        return {
            name: self._generate_examples(features, labels, rows)
            for name, rows in stratified_split(labels).items()
        }

    def _generate_examples(self, features: np.ndarray, labels: np.ndarray, rows: np.ndarray):
        for row in rows:
            yield int(row), {"features": features[row], "label": int(labels[row])}
