"""The tensorflow-datasets builder of Pima diabetes (see the package docstring); importing this
module registers it with tfds."""

from __future__ import annotations

import numpy as np
import tensorflow_datasets as tfds

from modelzoo.datasets import pima_diabetes
from modelzoo.datasets.pima_diabetes.rows import read_rows, stratified_split


class PimaDiabetes(tfds.core.GeneratorBasedBuilder):
    """Pima Indians diabetes: 8 clinical measurements -> tested positive for diabetes or not."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "Original 768 rows; fixed stratified 60/20/20 train/dev/test."}

    def _info(self) -> tfds.core.DatasetInfo:
        return self.dataset_info_from_configs(
            description=pima_diabetes.__doc__,
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
