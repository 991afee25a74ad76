"""The data set registry: `register_dataset(DatasetSpec(...))` beside a data set's definition.

A spec says everything the zoo needs to know about a data set: where its examples come from
(a tensorflow-datasets builder, or a function that generates arrays), its three splits, its input
spec, its targets, class and feature names, licence and origin. Loading (`modelzoo.data.load`)
reads only the spec; nothing special-cases a data set by name. Nothing here imports TensorFlow
or NumPy: registering is cheap, so recipes check their data set before anything heavy loads.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from modelzoo.errors import UsageError
from modelzoo.registry import TensorSpec, did_you_mean

#: The split names of every loaded data set, in order: fit on train, choose on dev, report test.
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class DatasetSpec:
    """A data set the zoo can load: where it comes from and what its examples look like.

    `target` is "class" (integer labels, sparse categorical losses), "binary" (float 0/1 in a
    column, binary cross-entropy) or "value" (float regression targets in a column). Give either
    `tfds_name` (with `splits`, the tfds split of train, dev and test, and `tfds_module` when the
    builder is this project's and importing that module registers it) or `generate` (a function
    returning {"train": (x, y), "dev": (x, y), "test": (x, y)} as NumPy arrays).
    """

    name: str
    description: str
    input: TensorSpec
    target: str
    classes: int | None
    tfds_name: str | None = None
    splits: tuple[str, str, str] = SPLITS
    generate: Callable[[], dict] | None = None
    feature_names: tuple[str, ...] = ()
    #: The names of the classes in label order (empty for regression targets).
    class_names: tuple[str, ...] = ()
    #: The terms the data is used under, with its authors.
    licence: str = "generated in code by modelzoo: no third-party data (Apache-2.0, as modelzoo)"
    #: Where the examples come from, independent of this machine's paths.
    origin: str = "generated in code (modelzoo.datasets.toy)"
    #: A module whose import registers the tfds builder (a builder of this project), or None.
    tfds_module: str | None = None

    def __post_init__(self) -> None:
        if (self.tfds_name is None) == (self.generate is None):
            raise ValueError(f"data set {self.name!r}: give exactly one of tfds_name and generate")
        if self.target not in ("class", "binary", "value"):
            raise ValueError(f"data set {self.name!r}: target must be class, binary or value")


DATASETS: dict[str, DatasetSpec] = {}


def register_dataset(spec: DatasetSpec) -> DatasetSpec:
    """Add a data set to the zoo (once per name); returns the spec."""
    if spec.name in DATASETS:
        raise RuntimeError(f"data set {spec.name!r} is registered twice")
    DATASETS[spec.name] = spec
    return spec


def unregister_dataset(name: str) -> None:
    """Remove a data set (for tests that register a throwaway one)."""
    DATASETS.pop(name, None)


def list_datasets() -> list[str]:
    """Names of the data sets `load` accepts, sorted."""
    return sorted(DATASETS)


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a data set, or a UsageError naming close matches."""
    if name not in DATASETS:
        raise UsageError(
            f"unknown data set {name!r}{did_you_mean(name, DATASETS)}; "
            f"choose from {', '.join(list_datasets())}"
        )
    return DATASETS[name]


def generated_by(module: str, function: str) -> Callable[[], dict]:
    """A `generate` that imports `module` (and NumPy with it) only when the data is loaded."""

    def generate() -> dict:
        return getattr(importlib.import_module(module), function)()

    generate.__qualname__ = f"{module}.{function}"
    generate.source = f"generated in code ({module})"  # what a loaded set's info says
    return generate
