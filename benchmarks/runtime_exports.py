"""Exports in every format for the runtime benchmarks (`cli_latency.py`, `inference.py`).

`publish_every_format` is `modelzoo export MODEL --weights TAG --format savedmodel,onnx,litert,
litert-int8` (`export.publish_shipped`): each format's parity check runs, the int8 model is
calibrated on training images and judged on the whole test split of the weights' data set, and
published only when its test accuracy is within 0.5 pp of the float model's.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Every format a version can be published in, as `--format` names them.
FORMATS = ("savedmodel", "onnx", "litert", "litert-int8")


def mnist_test_images(mirror: str | os.PathLike | None = None):
    """The MNIST test images (uint8), from the data mirror: the inputs the benchmarks time."""
    from modelzoo.data import pipelines

    splits = pipelines.load(
        "mnist", batch_size=1024, mirror=mirror or os.environ.get("MODELZOO_DATA_MIRROR")
    )
    images, _ = pipelines.take_arrays(splits.test, splits.info.sizes["test"])
    return images


def publish_every_format(
    model_name: str,
    tag: str,
    export_dir: str | os.PathLike,
    name: str,
    mirror: str | os.PathLike | None = None,
) -> Path:
    """Publish `model_name` with its shipped weights `tag` as `<export_dir>/<name>/<N>/` in every
    format; the version folder."""
    from modelzoo import export

    return export.publish_shipped(model_name, tag, export_dir, name, FORMATS, mirror)


def file_sizes(version: Path) -> dict[str, int]:
    """Bytes of each format of a published version, as its card records them (the SavedModel:
    saved_model.pb and variables; each other format: its file)."""
    from modelzoo import storage

    formats = storage.read_card(version)["formats"]
    return {name: record["bytes"] for name, record in formats.items()}
