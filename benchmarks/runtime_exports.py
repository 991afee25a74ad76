"""Exports in every format for the runtime benchmarks (`cli_latency.py`, `inference.py`).

`publish_every_format` publishes a zoo model with its shipped weights as `export.publish` does
for a recipe asked for every format: TF Serving's SavedModel, ONNX, LiteRT float32 and LiteRT
int8, the int8 model calibrated on MNIST training images and judged on the whole test split
(each format's parity check runs, as for any publish). Weights matter here: an int8 model is
published only when its test accuracy is within 0.5 pp of the float model's.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Every format a version can be published in, as `--format` names them.
FORMATS = ("savedmodel", "onnx", "litert", "litert-int8")
#: MNIST training images the int8 ranges are calibrated on.
CALIBRATION_EXAMPLES = 500
#: The MNIST test split.
TEST_EXAMPLES = 10_000


def mnist_arrays(mirror: str | os.PathLike | None = None):
    """(calibration images, (test images, test labels)) of MNIST, from the data mirror."""
    from modelzoo.data import pipelines

    splits = pipelines.load(
        "mnist", batch_size=1024, mirror=mirror or os.environ.get("MODELZOO_DATA_MIRROR")
    )
    calibration, _ = pipelines.take_arrays(splits.train, CALIBRATION_EXAMPLES)
    return calibration, pipelines.take_arrays(splits.test, TEST_EXAMPLES)


def publish_every_format(
    model_name: str, tag: str, export_dir: str | os.PathLike, name: str, arrays
) -> Path:
    """Publish `model_name` with its shipped weights `tag` as `<export_dir>/<name>/<N>/` in every
    format; `arrays` is `mnist_arrays()`. The version folder."""
    from modelzoo import export
    from modelzoo import weights as shipped
    from modelzoo.provenance import package_versions
    from modelzoo.registry import create_model

    entry = shipped.STORE.get(model_name, tag)
    model = create_model(model_name, weights=tag)
    card = export.make_card(
        model,
        name=name,
        model_name=model_name,
        recipe=entry.recipe_settings,
        data=entry.data,
        metrics=entry.metrics,
        versions=package_versions(),
    )
    calibration, evaluation = arrays
    return export.publish(
        model,
        export_dir,
        name,
        card,
        shipped.STORE.samples(entry),
        formats=FORMATS,
        calibration=calibration,
        evaluation=evaluation,
    )


def file_sizes(version: Path) -> dict[str, int]:
    """Bytes on disk of each format of a published version: the SavedModel's graph and variables
    (not its assets.extra: warmup requests and card), and each other format's file."""
    from modelzoo import exporters, storage

    sizes = {
        "savedmodel": sum(
            p.stat().st_size
            for p in version.rglob("*")
            if p.is_file() and "assets.extra" not in p.relative_to(version).parts
        )
    }
    for name in exporters.formats_present(version):
        file = exporters.EXPORTERS[name].file
        if file is not None:
            sizes[name] = (storage.formats_folder(version) / file).stat().st_size
    return sizes
