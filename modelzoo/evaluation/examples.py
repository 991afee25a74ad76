"""What `modelzoo evaluate` scores a model on: a registered data set's split, or the held-out
wild digits, checked against the model's input contract before anything loads."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from modelzoo.errors import UsageError
from modelzoo.evaluation.target import Target

WILD_DIGITS = "wild_digits"
SPLITS = ("test", "dev")


@dataclass
class Examples:
    """A split's inputs and targets, its task ("class", "binary", "value") and class names;
    `dev` too where a binary model's threshold is chosen on it."""

    data: str
    split: str
    task: str
    inputs: np.ndarray
    targets: np.ndarray
    class_names: list[str]
    dev: tuple[np.ndarray, np.ndarray] | None = None


def _fits(data_shape: tuple, model_shape: tuple) -> bool:
    return len(data_shape) == len(model_shape) and all(
        m is None or d is None or d == m for d, m in zip(data_shape, model_shape)
    )


def check_contract(target: Target, data: str) -> None:
    """Refuse, in one line, a data set whose examples the model does not take or whose targets
    its output does not predict."""
    model_in, outputs = target.input, target.output.example_shape
    width = outputs[-1] if outputs else 1
    if data == WILD_DIGITS:
        if not (model_in.is_image and model_in.example_shape[-1] == 1 and width == 10):
            raise UsageError(
                f"{WILD_DIGITS} holds grayscale digits for a 10-class image classifier, but "
                f"{target.description} takes {model_in} and outputs {width} values"
            )
        return
    import modelzoo.data  # noqa: F401  (registers the zoo's data sets)
    from modelzoo.datasets.registry import dataset_spec

    spec = dataset_spec(data)
    wanted = 1 if spec.target in ("binary", "value") else spec.classes
    if not _fits(spec.input.example_shape, model_in.example_shape) or width != wanted:
        trained = f" (it was trained on {target.data})" if target.data else ""
        raise UsageError(
            f"{data} does not match {target.description}: its examples are "
            f"{spec.input.dtype}{list(spec.input.example_shape)} with {wanted} target value(s), "
            f"the model takes {model_in.dtype}{list(model_in.example_shape)} and outputs "
            f"{width}{trained}"
        )


def load(
    target: Target, data: str, split: str, mirror: str | os.PathLike | None = None
) -> Examples:
    """The split's examples as the model takes them (after `check_contract`)."""
    if data == WILD_DIGITS:
        return _wild_digits(target, split)
    from modelzoo import data as data_module

    spec = data_module.dataset_spec(data)
    splits = data_module.load(data, batch_size=256, mirror=mirror, max_examples=target.max_examples)

    def arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
        inputs, targets = data_module.take_arrays(getattr(splits, name), splits.info.sizes[name])
        dtype = np.dtype(target.input.dtype)
        return inputs.astype(dtype, copy=False), targets

    inputs, targets = arrays(split)
    dev = arrays("dev") if spec.target == "binary" else None
    names = list(spec.class_names) or (
        [str(c) for c in range(spec.classes)] if spec.classes else []
    )
    return Examples(data, split, spec.target, inputs, targets, names, dev)


def _wild_digits(target: Target, split: str) -> Examples:
    from modelzoo.datasets import wild_digits
    from modelzoo.inputs import grayscale_to_input

    images, labels, _ = wild_digits.load(split)
    inputs = np.stack([grayscale_to_input(image, target.input) for image in images])
    return Examples(WILD_DIGITS, split, "class", inputs, labels, [str(d) for d in range(10)])
