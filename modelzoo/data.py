"""Data sets as train / dev / test tf.data pipelines, through tensorflow-datasets.

    splits = modelzoo.data.load("mnist", batch_size=128, seed=0)
    model.fit(splits.train, validation_data=splits.dev)
    model.evaluate(splits.test)

MNIST comes from tfds. With internet, tfds downloads it; without, point a mirror at a folder
whose `mnist/` subfolder holds the four original IDX files (`MODELZOO_DATA_MIRROR` or
`--data-mirror`): modelzoo checks them against the sha256 that tfds registers and hands them
to tfds as its manual_dir. Either way tfds prepares the data once into its data dir
(`TFDS_DATA_DIR`, default ~/tensorflow_datasets) and later loads reuse it. Pima diabetes is a
tfds builder of this project with the CSV inside the package; the toy sets are generated.

The dev split is carved from train (MNIST: the last 10%); the test split is never used to
choose anything. Images stay uint8: scaling lives in the models.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import socket
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from modelzoo.augment import Augmentation, augment_dataset
from modelzoo.errors import DataError, UsageError
from modelzoo.models import MNIST_IMAGE
from modelzoo.registry import TensorSpec, did_you_mean

if TYPE_CHECKING:
    import numpy as np
    import tensorflow as tf
    import tensorflow_datasets as tfds

MIRROR_ENV = "MODELZOO_DATA_MIRROR"
NETWORK_TIMEOUT_S = 5.0
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetSpec:
    """A data set the zoo can load: where it comes from and what its examples look like.

    `target` is "class" (integer labels, sparse categorical losses), "binary" (float 0/1 in a
    column, binary cross-entropy) or "value" (float regression targets in a column).
    """

    name: str
    description: str
    input: TensorSpec
    target: str
    classes: int | None
    tfds_name: str | None = None
    splits: tuple[str, str, str] = ("train", "dev", "test")
    generate: Callable[[], dict] | None = None
    feature_names: tuple[str, ...] = ()
    #: The names of the classes in label order (empty for regression targets).
    class_names: tuple[str, ...] = ()
    #: The terms the data is used under, with its authors.
    licence: str = "generated in code by modelzoo: no third-party data (Apache-2.0, as modelzoo)"
    #: Where the examples come from, independent of this machine's paths.
    origin: str = "generated in code (modelzoo.datasets.toy)"


def _toy(name: str) -> Callable[[], dict]:
    def generate() -> dict:
        from modelzoo.datasets import toy

        return getattr(toy, name)()

    return generate


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in [
        DatasetSpec(
            name="mnist",
            description="Handwritten digits 0-9, 28x28 grey images; 60000 train, 10000 test.",
            input=MNIST_IMAGE,
            target="class",
            classes=10,
            tfds_name="mnist",
            splits=("train[:90%]", "train[90%:]", "test"),
            class_names=tuple("0123456789"),
            licence="CC BY-SA 3.0; Yann LeCun, Corinna Cortes, Christopher J.C. Burges",
            origin="tensorflow-datasets 'mnist' (the four original IDX files, checksums as tfds registers them)",
        ),
        DatasetSpec(
            name="pima_diabetes",
            description="Pima Indians diabetes: 8 raw clinical measurements, 768 rows, 0 = missing.",
            input=TensorSpec("features", (None, 8), "float32"),
            target="binary",
            classes=2,
            tfds_name="pima_diabetes",
            feature_names=(
                "pregnancies",
                "glucose",
                "blood_pressure",
                "skin_thickness",
                "insulin",
                "bmi",
                "diabetes_pedigree",
                "age",
            ),
            class_names=("tested negative", "tested positive"),
            origin="modelzoo's tensorflow-datasets builder 'pima_diabetes' (the original CSV, in the package)",
            licence=(
                "no licence stated by the original distribution (UCI Machine Learning Repository; "
                "National Institute of Diabetes and Digestive and Kidney Diseases, donated 1990)"
            ),
        ),
        DatasetSpec(
            name="xor",
            description="XOR of two bits: the four corners of the unit square.",
            input=TensorSpec("features", (None, 2), "float32"),
            target="binary",
            classes=2,
            generate=_toy("xor"),
            class_names=("0", "1"),
        ),
        DatasetSpec(
            name="toy_linear",
            description="y = 2x + 0.5 + noise (sd 0.1), x uniform in [-1, 1].",
            input=TensorSpec("features", (None, 1), "float32"),
            target="value",
            classes=None,
            generate=_toy("linear"),
        ),
        DatasetSpec(
            name="toy_logistic",
            description="Class 1 above x = 1 (noisy near the threshold), x uniform in [-3, 3].",
            input=TensorSpec("features", (None, 1), "float32"),
            target="binary",
            classes=2,
            generate=_toy("logistic"),
            class_names=("x below the threshold", "x above the threshold"),
        ),
        DatasetSpec(
            name="notes_linear",
            description=(
                "The source notes' regression example: 3 points, x = 1, 2, 3 and y = 2.5, 4.5, 6.5; "
                "train, dev and test are all these 3 points."
            ),
            input=TensorSpec("features", (None, 1), "float32"),
            target="value",
            classes=None,
            generate=_toy("notes_linear"),
            origin="the worked example of the project's source notes, typed into modelzoo.datasets.toy",
        ),
        DatasetSpec(
            name="notes_logistic",
            description=(
                "The source notes' classification example: 6 points, x = 1 ... 6, class 1 from x = 4; "
                "train, dev and test are all these 6 points."
            ),
            input=TensorSpec("features", (None, 1), "float32"),
            target="binary",
            classes=2,
            generate=_toy("notes_logistic"),
            class_names=("0", "1"),
            origin="the worked example of the project's source notes, typed into modelzoo.datasets.toy",
        ),
    ]
}


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
    has chosen everything (a recipe's `train.refit`). With augmentation, train and train_dev are
    augmented for fitting; `for_evaluation` gives them as they are, for scoring.
    """

    train: tf.data.Dataset
    dev: tf.data.Dataset
    test: tf.data.Dataset
    train_dev: tf.data.Dataset
    info: DataInfo
    #: Un-augmented train and train_dev, where augmentation is on.
    unaugmented: dict[str, tf.data.Dataset] = field(default_factory=dict)

    def for_evaluation(self, split: str) -> tf.data.Dataset:
        """A split as `model.evaluate` should see it: the examples themselves, never augmented."""
        return self.unaugmented.get(split, getattr(self, split))


def list_datasets() -> list[str]:
    """Names of the data sets `load` accepts, sorted."""
    return sorted(DATASETS)


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a data set, or a UsageError naming close matches."""
    if name not in DATASETS:
        raise UsageError(
            f"unknown data set {name!r}{did_you_mean(name, DATASETS)}; choose from {', '.join(list_datasets())}"
        )
    return DATASETS[name]


def resolve_mirror(mirror: str | os.PathLike | None = None) -> Path | None:
    """The mirror folder: the argument, else $MODELZOO_DATA_MIRROR, else None (download)."""
    origin = "--data-mirror"
    if mirror is None or mirror == "":
        mirror, origin = os.environ.get(MIRROR_ENV) or None, MIRROR_ENV
    if mirror is None:
        return None
    path = Path(mirror).expanduser().resolve()
    if not path.is_dir():
        raise DataError(
            f"the data mirror {path} (from {origin}) is not a folder; fix the path or unset it to download"
        )
    return path


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

    if spec.generate is not None:
        arrays, source = spec.generate(), "generated in code (modelzoo.datasets.toy)"
        import tensorflow as tf

        datasets = {
            split: tf.data.Dataset.from_tensor_slices(arrays[split])
            for split in ("train", "dev", "test")
        }
    else:
        datasets, source = _load_tfds(spec, resolve_mirror(mirror), data_dir)

    if max_examples is not None:
        datasets = {split: dataset.take(max_examples) for split, dataset in datasets.items()}
    sizes = {split: _count(dataset) for split, dataset in datasets.items()}
    datasets["train_dev"] = datasets["train"].concatenate(datasets["dev"])

    def pipeline(split: str, training: bool, augmented: bool):
        size = sizes["train"] + sizes["dev"] if split == "train_dev" else sizes[split]
        return _pipeline(
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
    unaugmented = (
        {split: pipeline(split, False, False) for split in fitted}
        if augment and augment.enabled
        else {}
    )
    info = DataInfo(
        spec.name, spec.input, spec.target, spec.classes, sizes, source, spec.feature_names
    )
    return DataSplits(**pipelines, info=info, unaugmented=unaugmented)


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


def _pipeline(
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
    """typed targets -> cache -> (train: seeded shuffle, new order each epoch) -> batch -> (augment) -> prefetch."""
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
        dataset = augment_dataset(dataset, augment, seed)
    return dataset.prefetch(tf.data.AUTOTUNE)


def _load_tfds(spec: DatasetSpec, mirror: Path | None, data_dir) -> tuple[dict, str]:
    """Prepare the tfds data set if needed and open its three splits (unbatched, supervised)."""
    import tensorflow_datasets as tfds

    if spec.name == "pima_diabetes":
        import modelzoo.datasets.pima_diabetes  # noqa: F401  (registers the builder)
    if not sys.stderr.isatty():
        tfds.disable_progress_bar()

    builder = tfds.builder(spec.tfds_name, data_dir=data_dir)
    if not _is_complete(builder):
        builder = _prepare(builder, spec, mirror, data_dir)
    datasets = {
        split: builder.as_dataset(split=tfds_split, as_supervised=True, shuffle_files=False)
        for split, tfds_split in zip(("train", "dev", "test"), spec.splits)
    }
    return datasets, str(builder.data_path)


def _is_complete(builder: tfds.core.DatasetBuilder) -> bool:
    """Prepared: dataset_info.json and features.json present and every shard it lists on disk."""
    if not builder.is_prepared():
        return False
    return all(
        Path(path).exists() for split in builder.info.splits.values() for path in split.filepaths
    )


def _prepare(builder, spec: DatasetSpec, mirror: Path | None, data_dir):
    """Check the sources (fail fast, one line), then let tfds download or read the mirror."""
    import tensorflow_datasets as tfds

    if builder.data_path.exists():
        # tfds writes into an `incomplete.*` folder and renames it when done, but treats any
        # existing version folder as finished. One without its info or shards is left over from
        # an interrupted copy or preparation: remove it and prepare afresh.
        log.warning(
            "removing the incomplete data folder %s and preparing %s again",
            builder.data_path,
            spec.name,
        )
        shutil.rmtree(builder.data_path)
        builder = tfds.builder(spec.tfds_name, data_dir=data_dir)

    download_config = None
    expected = list(builder.url_infos.values()) if builder.url_infos else []
    if expected and mirror is not None:
        folder = mirror / spec.name
        _verify_mirror_files(spec, folder, expected)
        download_config = tfds.download.DownloadConfig(manual_dir=str(folder))
    elif expected:
        _check_reachable(spec, builder, expected)
    try:
        builder.download_and_prepare(download_config=download_config)
    except tfds.download.NonMatchingChecksumError as error:
        raise DataError(
            f"{spec.name}: a downloaded file does not match its registered sha256: {str(error).splitlines()[0]}"
        ) from None
    return builder


def _verify_mirror_files(spec: DatasetSpec, folder: Path, expected) -> None:
    """Every registered file present in the mirror with the registered size and sha256."""
    names = [info.filename for info in expected]
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise DataError(
            f"{spec.name}: the mirror folder {folder} lacks {', '.join(missing)}; copy the original "
            f"files there ({', '.join(names)}) or point {MIRROR_ENV} / --data-mirror at a mirror that has them"
        )
    for info in expected:
        path = folder / info.filename
        size = path.stat().st_size
        if size != info.size:
            raise DataError(
                f"{spec.name}: mirror file {path} has {size} bytes, the registered original {info.size}; "
                f"replace it with an intact copy"
            )
        digest = _sha256(path)
        if digest != info.checksum:
            raise DataError(
                f"{spec.name}: mirror file {path} has sha256 {digest[:16]}..., the registered original "
                f"{info.checksum[:16]}...; replace it with an intact copy"
            )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check_reachable(spec: DatasetSpec, builder, expected) -> None:
    """Fail within seconds when the download host cannot be reached, instead of tfds' minutes of retries."""
    url = next(iter(builder.url_infos))
    target = urllib.parse.urlsplit(urllib.request.getproxies().get("https", url))
    host, port = target.hostname, target.port or (443 if target.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=NETWORK_TIMEOUT_S).close()
    except OSError as error:
        files = ", ".join(info.filename for info in expected)
        raise DataError(
            f"{spec.name} is not prepared in {builder.data_dir} and {host} cannot be reached "
            f"({error.__class__.__name__}: {error}); to work offline put {files} in "
            f"<mirror>/{spec.name}/ and set {MIRROR_ENV}=<mirror> or pass --data-mirror <mirror>"
        ) from None


def take_arrays(dataset: tf.data.Dataset, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` (inputs, targets) of a batched pipeline as NumPy arrays."""
    import numpy as np

    inputs, targets = [], []
    for x, y in dataset.unbatch().take(count).as_numpy_iterator():
        inputs.append(x)
        targets.append(y)
    return np.stack(inputs), np.stack(targets)
