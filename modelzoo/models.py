"""The zoo: factory functions that return uncompiled `keras.Sequential` models.

Every layer is a linear map followed by a non-linear activation: ReLU in hidden layers (the deep
MLP takes sigmoid or tanh on request), sigmoid for one binary output, softmax for several
classes, none for regression scores. Each factory checks its arguments first (a bad value fails
before TensorFlow loads), then lists its layers top to bottom. Inputs and outputs carry fixed
names because they become the keys of the TF Serving signature. Weights start small and random
(see `registry.RANDOM_INIT`): Glorot-uniform kernels, or N(0, 0.01^2) ones with
`initializer="small_normal"`, and zero biases; `seed` fixes them, and `l2` adds the penalty
lambda * sum(W ** 2) of every kernel to the loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from modelzoo import checks
from modelzoo.errors import UsageError
from modelzoo.registry import TensorSpec, register_model

if TYPE_CHECKING:
    import keras
else:
    from modelzoo._lazy import LazyModule

    keras = LazyModule("keras")

MNIST_IMAGE = TensorSpec("image", (None, 28, 28, 1), "uint8")
MNIST_PROBABILITIES = TensorSpec("probabilities", (None, 10), "float32")

#: Output layer name for each output activation: the key a TF Serving client reads.
OUTPUT_NAMES = {"softmax": "probabilities", "sigmoid": "probability"}

#: The hidden-layer activations `deep_relu_mlp` takes, the three the source notes compare. Not
#: `checks.ACTIVATIONS` (meant for outputs): a linear hidden layer collapses the stack into one
#: linear map, and softmax ties a layer's units together.
HIDDEN_ACTIVATIONS = ("relu", "sigmoid", "tanh")

#: Standard deviation of the "small_normal" kernels: small enough that sigmoid and tanh units
#: start in their steep middle, not saturated.
SMALL_NORMAL_STDDEV = 0.01

#: Kernel initializers by the name a factory's `initializer` takes, each given the layer's seed.
INITIALIZERS: dict[str, Callable[[int | None], Any]] = {
    "glorot_uniform": lambda seed: keras.initializers.GlorotUniform(seed=seed),
    "small_normal": lambda seed: keras.initializers.RandomNormal(
        mean=0.0, stddev=SMALL_NORMAL_STDDEV, seed=seed
    ),
}


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Spatial size after a convolution or pooling window: (H - F + 2P) / S + 1, rounded down."""
    return (size - kernel + 2 * padding) // stride + 1


def _output_name(activation: str) -> str:
    return OUTPUT_NAMES.get(activation, "scores")


def _layer_seeds(seed: int | None) -> Iterator[int | None]:
    """Distinct, reproducible seeds for successive layers (None: Keras' global seed)."""
    index = 0
    while True:
        yield None if seed is None else seed * 1000 + index
        index += 1


class _Weighted:
    """Makes a factory's layers with weights alike: the named kernel initializer, zero biases and
    the L2 penalty, each layer (and each Dropout) seeded in turn by `_layer_seeds(seed)`."""

    def __init__(self, initializer: str, l2: float, seed: int | None) -> None:
        self.initializer = initializer
        self.l2 = l2
        self._seeds = _layer_seeds(seed)

    def seed(self) -> int | None:
        """The next layer's seed."""
        return next(self._seeds)

    def weights(self) -> dict[str, Any]:
        """The weight arguments of the next Dense or Conv2D layer."""
        return {
            "kernel_initializer": INITIALIZERS[self.initializer](self.seed()),
            "bias_initializer": "zeros",
            "kernel_regularizer": keras.regularizers.L2(self.l2) if self.l2 else None,
        }

    def dense(self, units: int, activation: str | None, name: str) -> keras.layers.Dense:
        """The next Dense layer."""
        return keras.layers.Dense(units, activation=activation, name=name, **self.weights())


@register_model(
    task="binary classification",
    input=TensorSpec("features", (None, 2), "float32"),
    output=TensorSpec("probability", (None, 1), "float32"),
    output_activation="sigmoid",
    default_loss="binary_crossentropy",
    default_metrics=("accuracy",),
    parameters=17,
    recipes=("xor",),
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
    make = _Weighted(initializer, l2, checks.seed("seed", seed))

    return keras.Sequential(
        [
            keras.Input(shape=(input_dim,), name="features"),
            make.dense(hidden_units, activation, "hidden"),
            make.dense(output_units, output_activation, _output_name(output_activation)),
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
    recipes=("diabetes", "notes_diabetes", "mnist_mlp", "mnist_hinge"),
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
    make = _Weighted(initializer, l2, checks.seed("seed", seed))

    is_image = len(input_shape) > 1
    layers = [
        keras.Input(shape=input_shape, dtype=input_dtype, name="image" if is_image else "features")
    ]
    if rescale is not None:
        layers.append(keras.layers.Rescaling(rescale, name="rescale"))
    if is_image:
        layers.append(keras.layers.Flatten(name="flatten"))
    if normalize:
        layers.append(keras.layers.Normalization(name="standardize"))
    for index, units in enumerate(hidden_units, start=1):
        layers.append(make.dense(units, activation, f"hidden_{index}"))
        if dropout:
            layers.append(keras.layers.Dropout(dropout, seed=make.seed(), name=f"dropout_{index}"))
    layers.append(make.dense(output_units, output_activation, _output_name(output_activation)))
    return keras.Sequential(layers, name="deep_relu_mlp")


@register_model(
    task="binary classification",
    input=TensorSpec("features", (None, 1), "float32"),
    output=TensorSpec("probability", (None, 1), "float32"),
    output_activation="sigmoid",
    default_loss="binary_crossentropy",
    default_metrics=("accuracy",),
    parameters=2,
    recipes=("logistic", "notes_logistic"),
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
    make = _Weighted(initializer, l2, checks.seed("seed", seed))

    layers = [keras.Input(shape=(input_dim,), name="features")]
    if normalize:
        layers.append(keras.layers.Normalization(name="standardize"))
    layers.append(make.dense(1, "sigmoid", "probability"))
    return keras.Sequential(layers, name="sigmoid_binary_classifier")


@register_model(
    task="multiclass classification",
    input=MNIST_IMAGE,
    output=MNIST_PROBABILITIES,
    output_activation="softmax",
    default_loss="sparse_categorical_crossentropy",
    default_metrics=("accuracy",),
    parameters=203_530,
    recipes=("mnist",),
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
    make = _Weighted(initializer, l2, checks.seed("seed", seed))

    layers = [
        keras.Input(shape=MNIST_IMAGE.shape[1:], dtype=MNIST_IMAGE.dtype, name=MNIST_IMAGE.name),
        keras.layers.Rescaling(1 / 255, name="rescale"),
        keras.layers.Flatten(name="flatten"),
        make.dense(hidden_units, "relu", "hidden"),
    ]
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=make.seed(), name="dropout"))
    layers.append(make.dense(10, "softmax", MNIST_PROBABILITIES.name))
    return keras.Sequential(layers, name="softmax_mnist_classifier")


@register_model(
    task="multiclass classification",
    input=MNIST_IMAGE,
    output=MNIST_PROBABILITIES,
    output_activation="softmax",
    default_loss="sparse_categorical_crossentropy",
    default_metrics=("accuracy",),
    parameters=34_826,
    recipes=("mnist_cnn",),
)
def small_cnn(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    filters: int | Sequence[int] = (32, 64),
    kernel_size: int = 3,
    padding: str = "valid",
    dense_units: int | Sequence[int] = (),
    dropout: float = 0.5,
    classes: int = 10,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """Convolution blocks (Conv2D + ReLU, then 2x2 max-pooling), Flatten, Dropout and a softmax.

    uint8 images are rescaled to [0, 1] inside the model. Each block's output size follows
    (H - F + 2P) / S + 1; a configuration that shrinks a block's input below one pixel is
    refused, naming the block.
    """
    input_shape = checks.positive_ints("input_shape", input_shape)
    if len(input_shape) != 3:
        raise UsageError(
            f"input_shape must be (height, width, channels), got {input_shape!r}",
            field="input_shape",
        )
    filters = checks.positive_ints("filters", filters)
    kernel_size = checks.positive_int("kernel_size", kernel_size)
    padding = checks.choice("padding", padding, ("valid", "same"))
    dense_units = checks.positive_ints("dense_units", dense_units, allow_empty=True)
    dropout = checks.rate("dropout", dropout)
    classes = checks.positive_int("classes", classes)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = _Weighted(initializer, l2, checks.seed("seed", seed))
    _check_blocks_fit(input_shape[:2], len(filters), kernel_size, padding)

    layers = [
        keras.Input(shape=input_shape, dtype=MNIST_IMAGE.dtype, name=MNIST_IMAGE.name),
        keras.layers.Rescaling(1 / 255, name="rescale"),
    ]
    for block, width in enumerate(filters, start=1):
        layers += [
            keras.layers.Conv2D(
                width,
                kernel_size,
                padding=padding,
                activation="relu",
                name=f"conv_{block}",
                **make.weights(),
            ),
            keras.layers.MaxPooling2D(2, name=f"pool_{block}"),
        ]
    layers.append(keras.layers.Flatten(name="flatten"))
    for index, units in enumerate(dense_units, start=1):
        layers.append(make.dense(units, "relu", f"hidden_{index}"))
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=make.seed(), name="dropout"))
    layers.append(make.dense(classes, "softmax", MNIST_PROBABILITIES.name))
    return keras.Sequential(layers, name="small_cnn")


def _check_blocks_fit(size: tuple[int, ...], blocks: int, kernel: int, padding: str) -> None:
    """Raise if some block's convolution or 2x2 pooling would leave less than one pixel."""
    pad = (kernel - 1) // 2 if padding == "same" else 0
    height, width = size
    for block in range(1, blocks + 1):
        conv = (conv_output_size(height, kernel, pad), conv_output_size(width, kernel, pad))
        pooled = tuple(conv_output_size(c, 2, stride=2) for c in conv)
        if min(conv) < 1 or min(pooled) < 1:
            raise UsageError(
                f"filters: block {block} of {blocks} gets a {height}x{width} input, which a "
                f"{kernel}x{kernel} '{padding}' convolution and 2x2 pooling shrink to "
                f"{max(pooled[0], 0)}x{max(pooled[1], 0)}; use fewer blocks, padding='same' "
                f"or a smaller kernel_size",
                field="filters",
            )
        height, width = pooled


@register_model(
    task="regression",
    input=TensorSpec("features", (None, 1), "float32"),
    output=TensorSpec("prediction", (None, 1), "float32"),
    output_activation=None,
    default_loss="mean_squared_error",
    default_metrics=("mean_absolute_error",),
    parameters=2,
    recipes=("linear", "notes_linear"),
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
    make = _Weighted(initializer, l2, checks.seed("seed", seed))

    return keras.Sequential(
        [
            keras.Input(shape=(input_dim,), name="features"),
            make.dense(units, None, "prediction"),
        ],
        name="linear_regression",
    )
