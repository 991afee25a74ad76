"""Linear models: one Dense layer, for regression (no activation) or logistic regression.

The factories check their arguments first (a bad value fails before TensorFlow loads), then list
their layers top to bottom.
"""

from __future__ import annotations

from modelzoo import checks
from modelzoo.models.layers import INITIALIZERS, Weighted, keras, standardize
from modelzoo.registry import TensorSpec, register_model


@register_model(
    task="binary classification",
    input=TensorSpec("features", (None, 1), "float32"),
    output=TensorSpec("probability", (None, 1), "float32"),
    output_activation="sigmoid",
    default_loss="binary_crossentropy",
    default_metrics=("accuracy",),
    parameters=2,
)
def sigmoid_binary_classifier(
    *,
    input_dim: int = 1,
    normalize: bool = False,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """Logistic regression: one Dense unit with a sigmoid, P(class 1) for a feature vector.

    The decision boundary is the hyperplane where the linear map is zero.
    """
    input_dim = checks.positive_int("input_dim", input_dim)
    normalize = checks.flag("normalize", normalize)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))

    layers = [keras.Input(shape=(input_dim,), name="features")]
    if normalize:
        layers.append(standardize())
    layers.append(make.output(1, "sigmoid", "probability"))
    return keras.Sequential(layers, name="sigmoid_binary_classifier")


@register_model(
    task="regression",
    input=TensorSpec("features", (None, 1), "float32"),
    output=TensorSpec("prediction", (None, 1), "float32"),
    output_activation=None,
    default_loss="mean_squared_error",
    default_metrics=("mean_absolute_error",),
    parameters=2,
)
def linear_regression(
    *,
    input_dim: int = 1,
    units: int = 1,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """Linear regression: y = xW + b, one Dense layer with no activation.

    Trained with mean squared error, its weights estimate the slope and the intercept.
    """
    input_dim = checks.positive_int("input_dim", input_dim)
    units = checks.positive_int("units", units)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))

    return keras.Sequential(
        [
            keras.Input(shape=(input_dim,), name="features"),
            make.output(units, None, "prediction"),
        ],
        name="linear_regression",
    )
