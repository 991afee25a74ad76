"""The toy data sets of the classic examples, generated deterministically in code.

Each function returns {"train": (x, y), "dev": (x, y), "test": (x, y)} as float32 arrays; the
same call always returns the same numbers. `notes_linear` and `notes_logistic` are the worked
examples of the project's source notes, point for point; the others are generated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelzoo.datasets.registry import DatasetSpec, generated_by, register_dataset
from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import numpy as np

    Splits = dict[str, tuple[np.ndarray, np.ndarray]]

#: Where the notes' worked examples come from.
NOTES_ORIGIN = "the worked example of the project's source notes, typed into modelzoo.datasets.toy"

SIZES = {"train": 2000, "dev": 500, "test": 1000}
DATA_SEED = 20240501


def xor(repeats: int = 64) -> Splits:
    """XOR of two bits: the four corners of the unit square, class 1 where exactly one bit is set.

    No straight line separates the classes, so a one-layer classifier cannot fit them and a
    two-layer perceptron can. There are only four distinct points: train repeats them
    `repeats` times per epoch, and dev and test are the four points themselves (there is
    nothing else to generalize to).
    """
    import numpy as np

    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return {
        "train": (np.tile(x, (repeats, 1)), np.tile(y, (repeats, 1))),
        "dev": (x, y),
        "test": (x, y),
    }


register_dataset(
    DatasetSpec(
        name="xor",
        description="XOR of two bits: the four corners of the unit square.",
        input=TensorSpec("features", (None, 2), "float32"),
        target="binary",
        classes=2,
        generate=generated_by(__name__, "xor"),
        class_names=("0", "1"),
    )
)


def linear(slope: float = 2.0, intercept: float = 0.5, noise: float = 0.1) -> Splits:
    """1-D linear regression: y = 2x + 0.5 + Gaussian noise (sd 0.1), x uniform in [-1, 1]."""
    import numpy as np

    rng = np.random.default_rng(DATA_SEED)
    splits = {}
    for split, size in SIZES.items():
        x = rng.uniform(-1.0, 1.0, size=(size, 1))
        y = slope * x + intercept + rng.normal(0.0, noise, size=(size, 1))
        splits[split] = (x.astype(np.float32), y.astype(np.float32))
    return splits


register_dataset(
    DatasetSpec(
        name="toy_linear",
        description="y = 2x + 0.5 + noise (sd 0.1), x uniform in [-1, 1].",
        input=TensorSpec("features", (None, 1), "float32"),
        target="value",
        classes=None,
        generate=generated_by(__name__, "linear"),
    )
)


def logistic(threshold: float = 1.0, noise: float = 0.2) -> Splits:
    """1-D binary classification: class 1 above x = 1, x uniform in [-3, 3].

    The label is read off a noisy copy of x (sd 0.2), so points near the threshold are sometimes
    on the other side: the best possible accuracy is about 97%, not 100%.
    """
    import numpy as np

    rng = np.random.default_rng(DATA_SEED + 1)
    splits = {}
    for split, size in SIZES.items():
        x = rng.uniform(-3.0, 3.0, size=(size, 1))
        y = (x + rng.normal(0.0, noise, size=(size, 1)) > threshold).astype(np.float32)
        splits[split] = (x.astype(np.float32), y)
    return splits


register_dataset(
    DatasetSpec(
        name="toy_logistic",
        description="Class 1 above x = 1 (noisy near the threshold), x uniform in [-3, 3].",
        input=TensorSpec("features", (None, 1), "float32"),
        target="binary",
        classes=2,
        generate=generated_by(__name__, "logistic"),
        class_names=("x below the threshold", "x above the threshold"),
    )
)


def _the_points(x: list[float], y: list[float]) -> Splits:
    """Train, dev and test are all the same few points, as in a worked example on paper."""
    import numpy as np

    points = (np.array(x, np.float32).reshape(-1, 1), np.array(y, np.float32).reshape(-1, 1))
    return {"train": points, "dev": points, "test": points}


def notes_linear() -> Splits:
    """The source notes' linear regression example: x = 1, 2, 3 and y = 2.5, 4.5, 6.5 (y = 2x + 0.5 exactly)."""
    return _the_points([1, 2, 3], [2.5, 4.5, 6.5])


register_dataset(
    DatasetSpec(
        name="notes_linear",
        description=(
            "The source notes' regression example: 3 points, x = 1, 2, 3 and y = 2.5, 4.5, 6.5; "
            "train, dev and test are all these 3 points."
        ),
        input=TensorSpec("features", (None, 1), "float32"),
        target="value",
        classes=None,
        generate=generated_by(__name__, "notes_linear"),
        origin=NOTES_ORIGIN,
    )
)


def notes_logistic() -> Splits:
    """The source notes' logistic regression example: x = 1 ... 6, class 0 for 1-3 and class 1 for 4-6."""
    return _the_points([1, 2, 3, 4, 5, 6], [0, 0, 0, 1, 1, 1])


register_dataset(
    DatasetSpec(
        name="notes_logistic",
        description=(
            "The source notes' classification example: 6 points, x = 1 ... 6, class 1 from x = 4; "
            "train, dev and test are all these 6 points."
        ),
        input=TensorSpec("features", (None, 1), "float32"),
        target="binary",
        classes=2,
        generate=generated_by(__name__, "notes_logistic"),
        class_names=("0", "1"),
        origin=NOTES_ORIGIN,
    )
)
