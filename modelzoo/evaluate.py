"""Scores of a trained model beyond its recipe's test split.

`wild_digits(model, split)` measures an MNIST model on the held-out digits users bring
(`modelzoo.datasets.wild_digits`: printed fonts and drawn strokes, dark on light, of any size and
position), each turned into the model's input exactly as `modelzoo predict` turns an image file.
"""

from __future__ import annotations

from typing import Any

from modelzoo.inputs import grayscale_to_input
from modelzoo.registry import TensorSpec


def wild_digits(model, split: str = "test") -> dict[str, Any]:
    """Accuracy of a Keras MNIST model on a split of the held-out digits, overall and per kind
    of digit (printed with a font, or drawn as strokes)."""
    import numpy as np

    from modelzoo.datasets import wild_digits as held_out

    images, labels, kinds = held_out.load(split)
    spec = TensorSpec(
        model.inputs[0].name, tuple(model.inputs[0].shape), str(model.inputs[0].dtype)
    )
    batch = np.stack([grayscale_to_input(image, spec) for image in images])
    predicted = np.asarray(model.predict(batch, batch_size=256, verbose=0)).argmax(axis=-1)
    right = predicted == labels
    groups = np.array([kind.split(":", 1)[0] for kind in kinds])
    return {
        "accuracy": float(right.mean()),
        "examples": int(len(labels)),
        "by_kind": {
            kind: float(right[groups == kind].mean()) for kind in sorted(set(groups.tolist()))
        },
    }
