"""A throwaway model and data set, added only through the documented extension points.

`tests/test_extending.py` loads this module as a pytest plugin (`-p throwaway_zoo`) in a fresh
pytest run, with this folder's `recipes/` on $MODELZOO_RECIPES_PATH, and checks that the suite's
registry-driven tests pick all three up. Nothing in modelzoo names them.
"""

from __future__ import annotations

from modelzoo import checks
from modelzoo.datasets.registry import DatasetSpec, generated_by, register_dataset
from modelzoo.models.layers import INITIALIZERS, Weighted, keras
from modelzoo.registry import TensorSpec, register_model


@register_model(
    task="binary classification",
    input=TensorSpec("features", (None, 3), "float32"),
    output=TensorSpec("probability", (None, 1), "float32"),
    output_activation="sigmoid",
    default_loss="binary_crossentropy",
    default_metrics=("accuracy",),
    parameters=21,
)
def throwaway_mlp(
    *,
    input_dim: int = 3,
    hidden_units: int = 4,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """A 3 -> 4 -> 1 network that exists only to show a new model is covered by the tests."""
    input_dim = checks.positive_int("input_dim", input_dim)
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))
    return keras.Sequential(
        [
            keras.Input(shape=(input_dim,), name="features"),
            make.dense(hidden_units, "relu", "hidden"),
            make.dense(1, "sigmoid", "probability"),
        ],
        name="throwaway_mlp",
    )


def points() -> dict:
    """Class 1 where the three features sum above zero; 64 / 16 / 16 rows."""
    import numpy as np

    rng = np.random.default_rng(0)
    splits = {}
    for split, size in {"train": 64, "dev": 16, "test": 16}.items():
        x = rng.normal(size=(size, 3)).astype(np.float32)
        splits[split] = (x, (x.sum(axis=1, keepdims=True) > 0).astype(np.float32))
    return splits


register_dataset(
    DatasetSpec(
        name="throwaway_points",
        description="Three normal features; class 1 where they sum above zero.",
        input=TensorSpec("features", (None, 3), "float32"),
        target="binary",
        classes=2,
        generate=generated_by(__name__, "points"),
        class_names=("0", "1"),
    )
)
