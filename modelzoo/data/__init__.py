"""Data sets as train / dev / test tf.data pipelines.

    splits = modelzoo.data.load("mnist", batch_size=128, seed=0)
    model.fit(splits.train, validation_data=splits.dev)
    model.evaluate(splits.test)

A data set is one registered entry: `register_dataset(DatasetSpec(...))` beside its definition
(`modelzoo.datasets.registry`), in a module imported below. MNIST comes from tfds (a mirror of the
original files or a download: `tfds_source`); Pima diabetes is a tfds builder of this project
with the CSV inside the package; the toy sets are generated in code. The dev split is carved
from train (MNIST: the last 10%); the test split is never used to choose anything. Images stay
uint8: scaling lives in the models.

Importing this package registers the zoo's data sets; nothing heavy loads until `load`.
"""

from modelzoo.data.pipelines import (
    DataInfo,
    DataSplits,
    load,
    pipeline_of,
    shard_by_example,
    take_arrays,
)
from modelzoo.data.tfds_source import MIRROR_ENV, is_complete, resolve_mirror
from modelzoo.datasets import mnist, pima_diabetes, toy  # noqa: F401  (register the data sets)
from modelzoo.datasets.registry import (
    DATASETS,
    DatasetSpec,
    dataset_spec,
    list_datasets,
    register_dataset,
    unregister_dataset,
)

__all__ = [
    "DATASETS",
    "MIRROR_ENV",
    "DataInfo",
    "DataSplits",
    "DatasetSpec",
    "dataset_spec",
    "is_complete",
    "list_datasets",
    "load",
    "pipeline_of",
    "register_dataset",
    "resolve_mirror",
    "shard_by_example",
    "take_arrays",
    "unregister_dataset",
]
