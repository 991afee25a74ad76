"""Multi-layer perceptrons: stacks of Dense layers, from XOR's 2 -> 4 -> 1 to MNIST's softmax.

Each hidden layer is a linear map followed by ReLU (the deep MLP takes sigmoid or tanh on request);
the output is a sigmoid for one binary output, softmax for several classes, none for scores. Each
factory checks its arguments first (a bad value fails before TensorFlow loads), then lists its
layers top to bottom. Inputs and outputs carry fixed names: the keys of the TF Serving signature.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelzoo import checks
from modelzoo.datasets.mnist import MNIST_IMAGE
from modelzoo.models.layers import (
    INITIALIZERS,
    MNIST_PROBABILITIES,
    Weighted,
    keras,
    output_name,
    standardize,
)
from modelzoo.registry import TensorSpec, register_model

#: The hidden-layer activations `deep_relu_mlp` takes, the three the source notes compare. Not
#: `checks.ACTIVATIONS` (meant for outputs): a linear hidden layer collapses the stack into one
#: linear map, and softmax ties a layer's units together.
HIDDEN_ACTIVATIONS = ("relu", "sigmoid", "tanh")


@register_model(
    task="binary classification",
    input=TensorSpec("features", (None, 2), "float32"),
    output=TensorSpec("probability", (None, 1), "float32"),
    output_activation="sigmoid",
    default_loss="binary_crossentropy",
    default_metrics=("accuracy",),
    parameters=17,
)
def two_layer_perceptron(
    *,
    input_dim: int = 2,
    hidden_units: int = 4,
    output_units: int = 1,
    activation: str = "sigmoid",
    output_activation: str = "sigmoid",
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """One hidden layer and an output layer; the default 2 -> 4 -> 1 solves XOR.

    "Two layers" counts the layers with weights, not the input. A single linear layer cannot
    separate XOR; the hidden layer bends the input space so that the output layer can.
    """
    input_dim = checks.positive_int("input_dim", input_dim)
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    output_units = checks.positive_int("output_units", output_units)
    activation = checks.activation("activation", activation)
    output_activation = checks.activation("output_activation", output_activation)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))

    return keras.Sequential(
        [
            keras.Input(shape=(input_dim,), name="features"),
            make.dense(hidden_units, activation, "hidden"),
            make.output(output_units, output_activation, output_name(output_activation)),
        ],
        name="two_layer_perceptron",
    )


@register_model(
    task="binary classification",
    input=TensorSpec("features", (None, 8), "float32"),
    output=TensorSpec("probability", (None, 1), "float32"),
    output_activation="sigmoid",
    default_loss="binary_crossentropy",
    default_metrics=("accuracy",),
    parameters=87,
)
def deep_relu_mlp(
    *,
    input_shape: int | Sequence[int] = 8,
    input_dtype: str = "float32",
    hidden_units: int | Sequence[int] = (6, 4),
    output_units: int = 1,
    activation: str = "relu",
    output_activation: str = "sigmoid",
    rescale: float | None = None,
    normalize: bool = False,
    dropout: float = 0.0,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """A stack of hidden layers of the given widths, ReLU by default; sigmoid or tanh on request
    (default 8 -> 6 -> 4 -> 1 with a sigmoid output).

    `activation="sigmoid"` gives the classic diabetes network, a sigmoid after every layer. For
    10 classes use `output_units=10, output_activation="softmax"`; for MNIST images
    `input_shape=(28, 28, 1), input_dtype="uint8", rescale=1/255` (flattened inside the model);
    with no hidden layers (`hidden_units=()`) it is a linear score function. `normalize` adds a
    Normalization layer to adapt on the training features, so the model takes raw rows.
    """
    input_shape = checks.positive_ints("input_shape", input_shape)
    input_dtype = checks.choice("input_dtype", input_dtype, ("float32", "uint8"))
    hidden_units = checks.positive_ints("hidden_units", hidden_units, allow_empty=True)
    output_units = checks.positive_int("output_units", output_units)
    activation = checks.choice("activation", activation, HIDDEN_ACTIVATIONS)
    output_activation = checks.activation("output_activation", output_activation)
    if rescale is not None:
        rescale = checks.positive_float("rescale", rescale)
    normalize = checks.flag("normalize", normalize)
    dropout = checks.rate("dropout", dropout)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))

    is_image = len(input_shape) > 1
    layers = [
        keras.Input(shape=input_shape, dtype=input_dtype, name="image" if is_image else "features")
    ]
    if rescale is not None:
        layers.append(keras.layers.Rescaling(rescale, name="rescale"))
    if is_image:
        layers.append(keras.layers.Flatten(name="flatten"))
    if normalize:
        layers.append(standardize())
    for index, units in enumerate(hidden_units, start=1):
        layers.append(make.dense(units, activation, f"hidden_{index}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, seed=make.seed(), name=f"dropout_{index}"))
    layers.append(make.output(output_units, output_activation, output_name(output_activation)))
    return keras.Sequential(layers, name="deep_relu_mlp")


@register_model(
    task="multiclass classification",
    input=MNIST_IMAGE,
    output=MNIST_PROBABILITIES,
    output_activation="softmax",
    default_loss="sparse_categorical_crossentropy",
    default_metrics=("accuracy",),
    parameters=203_530,
)
def softmax_mnist_classifier(
    *,
    hidden_units: int = 256,
    dropout: float = 0.2,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """MNIST digits: 28x28 uint8 images, rescaled to [0, 1] inside the model, one ReLU hidden
    layer, then a 10-way softmax.

    Scaling inside the model means a SavedModel takes the raw pixels a client sends.
    """
    hidden_units = checks.positive_int("hidden_units", hidden_units)
    dropout = checks.rate("dropout", dropout)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))

    layers = [
        keras.Input(shape=MNIST_IMAGE.shape[1:], dtype=MNIST_IMAGE.dtype, name=MNIST_IMAGE.name),
        keras.layers.Rescaling(1 / 255, name="rescale"),
        keras.layers.Flatten(name="flatten"),
        make.dense(hidden_units, "relu", "hidden"),
    ]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=make.seed(), name="dropout"))
    layers.append(make.output(10, "softmax", MNIST_PROBABILITIES.name))
    return keras.Sequential(layers, name="softmax_mnist_classifier")
