"""The toy data sets of the classic examples, generated deterministically in code.

Each function returns {"train": (x, y), "dev": (x, y), "test": (x, y)} as float32 arrays; the
same call always returns the same numbers.
"""

from __future__ import annotations

import numpy as np

Splits = dict[str, tuple[np.ndarray, np.ndarray]]

SIZES = {"train": 2000, "dev": 500, "test": 1000}
DATA_SEED = 20240501


def xor(repeats: int = 64) -> Splits:
    """XOR of two bits: the four corners of the unit square, class 1 where exactly one bit is set.

    No straight line separates the classes, so a one-layer classifier cannot fit them and a
    two-layer perceptron can. There are only four distinct points: train repeats them
    `repeats` times per epoch, and dev and test are the four points themselves (there is
    nothing else to generalize to).
    """
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    return {
        "train": (np.tile(x, (repeats, 1)), np.tile(y, (repeats, 1))),
        "dev": (x, y),
        "test": (x, y),
    }


def linear(slope: float = 2.0, intercept: float = 0.5, noise: float = 0.1) -> Splits:
    """1-D linear regression: y = 2x + 0.5 + Gaussian noise (sd 0.1), x uniform in [-1, 1]."""
    rng = np.random.default_rng(DATA_SEED)
    splits = {}
    for split, size in SIZES.items():
        x = rng.uniform(-1.0, 1.0, size=(size, 1))
        y = slope * x + intercept + rng.normal(0.0, noise, size=(size, 1))
        splits[split] = (x.astype(np.float32), y.astype(np.float32))
    return splits


def logistic(threshold: float = 1.0, noise: float = 0.2) -> Splits:
    """1-D binary classification: class 1 above x = 1, x uniform in [-3, 3].

    The label is read off a noisy copy of x (sd 0.2), so points near the threshold are sometimes
    on the other side: the best possible accuracy is about 97%, not 100%.
    """
    rng = np.random.default_rng(DATA_SEED + 1)
    splits = {}
    for split, size in SIZES.items():
        x = rng.uniform(-3.0, 3.0, size=(size, 1))
        y = (x + rng.normal(0.0, noise, size=(size, 1)) > threshold).astype(np.float32)
        splits[split] = (x.astype(np.float32), y)
    return splits
