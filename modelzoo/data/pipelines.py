"""Train / dev / test tf.data pipelines of a registered data set (see `modelzoo.data`).

A generated data set's arrays and a tfds data set's splits go through the same pipeline: typed
targets, cache, a seeded shuffle for the fitted splits, batches, optional augmentation, prefetch.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from modelzoo.augment import Augmentation, augment_dataset
from modelzoo.data.tfds_source import load_tfds, resolve_mirror
from modelzoo.datasets.registry import SPLITS, DatasetSpec, dataset_spec
from modelzoo.errors import UsageError
from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import numpy as np
    import tensorflow as tf


#: Batches made ahead of the model: a fixed buffer, since tf.data's autotuning is off
#: (`_without_autotuning`); 4 kept the augmented MNIST pipeline ahead of training in a measured run.
PREFETCH_BATCHES = 4


@dataclass(frozen=True)
class DataInfo:
    """What a loaded data set holds: input spec, classes, split sizes and where it came from."""

    name: str
    input: TensorSpec
    target: str
    classes: int | None
    sizes: dict[str, int]
    source: str
    feature_names: tuple[str, ...] = ()


@dataclass
class DataSplits:
    """Batched (inputs, targets) pipelines for training, model selection and the final test.

    `train_dev` is train followed by dev, shuffled like train: the final fit after the dev split
    has chosen everything (a recipe's `train.refit`). Train and train_dev are reshuffled every
    epoch (and augmented, with augmentation) for fitting; `for_evaluation` gives them as they
    are, in one order, for scoring: a score must not depend on how many epochs ran before it.
    """

    train: tf.data.Dataset
    dev: tf.data.Dataset
    test: tf.data.Dataset
    train_dev: tf.data.Dataset
    info: DataInfo
    #: Train and train_dev for scoring: in order, never augmented.
    unaugmented: dict[str, tf.data.Dataset] = field(default_factory=dict)

    def for_evaluation(self, split: str) -> tf.data.Dataset:
        """A split as `model.evaluate` should see it: the examples themselves, never augmented."""
        return self.unaugmented.get(split, getattr(self, split))


def load(
    name: str,
    *,
    batch_size: int = 32,
    seed: int = 0,
    mirror: str | os.PathLike | None = None,
    data_dir: str | os.PathLike | None = None,
    max_examples: int | None = None,
    one_hot: bool = False,
    augment: Augmentation | None = None,
) -> DataSplits:
    """Load a data set into batched train / dev / test pipelines.

    Args:
        name: one of `list_datasets()`.
        batch_size: examples per batch in every split.
        seed: shuffles the training split (reshuffled each epoch, reproducibly).
        mirror: folder with a subfolder per data set holding the original files; default
            $MODELZOO_DATA_MIRROR, and without either tfds downloads.
        data_dir: where tfds keeps prepared data; default $TFDS_DATA_DIR or ~/tensorflow_datasets.
        max_examples: keep only the first N examples of each split (quick runs and tests).
        one_hot: class labels as one-hot rows (for categorical losses) instead of integers.
        augment: random changes to the training images (train and train_dev only), new every epoch.
    """
    spec = dataset_spec(name)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be a positive integer, got {batch_size!r}")
    if max_examples is not None and (not isinstance(max_examples, int) or max_examples < 1):
        raise UsageError(f"max_examples must be a positive integer, got {max_examples!r}")

    datasets, source = _open_splits(spec, mirror, data_dir, max_examples)

    if max_examples is not None:
        datasets = {split: dataset.take(max_examples) for split, dataset in datasets.items()}
    sizes = {split: _count(dataset) for split, dataset in datasets.items()}
    datasets["train_dev"] = datasets["train"].concatenate(datasets["dev"])

    def pipeline(split: str, training: bool, augmented: bool):
        size = sizes["train"] + sizes["dev"] if split == "train_dev" else sizes[split]
        return pipeline_of(
            datasets[split],
            spec,
            training=training,
            batch_size=batch_size,
            seed=seed,
            size=size,
            one_hot=one_hot,
            augment=augment if augmented else None,
        )

    fitted = ("train", "train_dev")
    pipelines = {split: pipeline(split, split in fitted, split in fitted) for split in datasets}
    unaugmented = {split: pipeline(split, False, False) for split in fitted}
    info = DataInfo(
        spec.name, spec.input, spec.target, spec.classes, sizes, source, spec.feature_names
    )
    return DataSplits(**pipelines, info=info, unaugmented=unaugmented)


def _open_splits(
    spec: DatasetSpec, mirror, data_dir, max_examples: int | None = None
) -> tuple[dict, str]:
    """The three unbatched splits of a data set as tf.data datasets, and where they came from."""
    if spec.generate is None:
        return load_tfds(spec, resolve_mirror(mirror), data_dir, max_examples)
    import tensorflow as tf

    arrays = spec.generate()
    datasets = {split: tf.data.Dataset.from_tensor_slices(arrays[split]) for split in SPLITS}
    return datasets, getattr(spec.generate, "source", "generated in code")


def shard_by_example(splits: DataSplits) -> DataSplits:
    """The same splits, sharded across multi-worker training by example (each worker a share of every batch).

    tf.data's default tries to give each worker whole files first, which a single-file or
    in-memory data set cannot be split by.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return DataSplits(
        **{
            split: getattr(splits, split).with_options(options)
            for split in ("train", "dev", "test", "train_dev")
        },
        info=splits.info,
        unaugmented={
            split: dataset.with_options(options) for split, dataset in splits.unaugmented.items()
        },
    )


def _count(dataset: tf.data.Dataset) -> int:
    """Examples in an unbatched split: its known cardinality, else counted."""
    size = int(dataset.cardinality())
    return size if size >= 0 else int(dataset.reduce(0, lambda count, _: count + 1))


def pipeline_of(
    dataset,
    spec: DatasetSpec,
    *,
    training: bool,
    batch_size: int,
    seed: int,
    size: int,
    one_hot: bool,
    augment: Augmentation | None = None,
):
    """typed targets -> cache -> (train: seeded shuffle, new order each epoch) -> batch -> (augment)
    -> prefetch, with tf.data's autotuning off."""
    import tensorflow as tf

    if one_hot and spec.target == "class":
        dataset = dataset.map(
            lambda x, y: (x, tf.one_hot(y, spec.classes)), num_parallel_calls=tf.data.AUTOTUNE
        )
    if spec.target in ("binary", "value"):
        dataset = dataset.map(
            lambda x, y: (x, tf.reshape(tf.cast(y, tf.float32), (1,))),
            num_parallel_calls=tf.data.AUTOTUNE,
        )
    dataset = dataset.cache()
    if training:
        dataset = dataset.shuffle(max(size, 1), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if augment is not None:
        dataset = augment_dataset(dataset, augment, seed, batch_size)
    return dataset.prefetch(PREFETCH_BATCHES).with_options(_without_autotuning())


def _without_autotuning():
    """tf.data options that turn its autotuning off (see PREFETCH_BATCHES).

    Keras' `fit` makes a second iterator every epoch and discards it; with autotuning on, the
    discarded iterator's destructor waits for the autotuning thread to wake, which left about
    two epochs in five idle for 4-5 s before their first batch on this project's 2-core machine
    (seen with py-spy: the main thread in `RootDataset::Iterator::~Iterator`, waiting on a
    logical thread of tf.data's thread pool).
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return options


def take_arrays(dataset: tf.data.Dataset, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` (inputs, targets) of a batched pipeline as NumPy arrays.

    Read a batch at a time and cut at `count`: unbatched, the same 10,000 MNIST test examples
    crossed into Python one by one, several seconds of every recipe run's final test.
    """
    import numpy as np

    inputs, targets, held = [], [], 0
    if count > 0:
        for x, y in dataset.as_numpy_iterator():
            inputs.append(x)
            targets.append(y)
            held += len(x)
            if held >= count:
                break
    if not inputs:
        raise ValueError(f"take_arrays: no examples to take ({count} asked for)")
    return np.concatenate(inputs)[:count], np.concatenate(targets)[:count]
