"""Convolutional networks: blocks of Conv2D + ReLU and 2x2 max-pooling, then a softmax.

The factory checks its arguments first (a bad value, or blocks that would shrink the image below
one pixel, fails before TensorFlow loads), then lists its layers top to bottom.
"""

from __future__ import annotations

from collections.abc import Sequence

from modelzoo import checks
from modelzoo.datasets.mnist import MNIST_IMAGE
from modelzoo.errors import UsageError
from modelzoo.models.layers import INITIALIZERS, MNIST_PROBABILITIES, Weighted, keras
from modelzoo.registry import register_model


def conv_output_size(size: int, kernel: int, padding: int = 0, stride: int = 1) -> int:
    """Spatial size after a convolution or pooling window: (H - F + 2P) / S + 1, rounded down."""
    return (size - kernel + 2 * padding) // stride + 1


@register_model(
    task="multiclass classification",
    input=MNIST_IMAGE,
    output=MNIST_PROBABILITIES,
    output_activation="softmax",
    default_loss="sparse_categorical_crossentropy",
    default_metrics=("accuracy",),
    parameters=34_826,
)
def small_cnn(
    *,
    input_shape: Sequence[int] = (28, 28, 1),
    filters: int | Sequence[int] = (32, 64),
    kernel_size: int = 3,
    padding: str = "valid",
    batch_norm: bool = False,
    dense_units: int | Sequence[int] = (),
    dropout: float = 0.5,
    classes: int = 10,
    initializer: str = "glorot_uniform",
    l2: float = 0.0,
    seed: int | None = None,
) -> keras.Sequential:
    """Convolution blocks (Conv2D + ReLU, then 2x2 max-pooling), Flatten, Dropout and a softmax.

    With `batch_norm`, each convolution's output is batch-normalized before its ReLU (and the
    convolution drops its bias, which the normalization's offset replaces): larger learning
    rates train stably, and the network fits in fewer epochs. uint8 images are rescaled to
    [0, 1] inside the model. Each block's output size follows (H - F + 2P) / S + 1; a
    configuration that shrinks a block's input below one pixel is refused, naming the block.
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
    batch_norm = checks.flag("batch_norm", batch_norm)
    dense_units = checks.positive_ints("dense_units", dense_units, allow_empty=True)
    dropout = checks.rate("dropout", dropout)
    classes = checks.positive_int("classes", classes)
    initializer = checks.choice("initializer", initializer, tuple(INITIALIZERS))
    l2 = checks.non_negative_float("l2", l2)
    make = Weighted(initializer, l2, checks.seed("seed", seed))
    _check_blocks_fit(input_shape[:2], len(filters), kernel_size, padding)

    layers = [
        keras.Input(shape=input_shape, dtype=MNIST_IMAGE.dtype, name=MNIST_IMAGE.name),
        keras.layers.Rescaling(1 / 255, name="rescale"),
    ]
    for block, width in enumerate(filters, start=1):
        layers.append(
            keras.layers.Conv2D(
                width,
                kernel_size,
                padding=padding,
                activation=None if batch_norm else "relu",
                use_bias=not batch_norm,
                name=f"conv_{block}",
                **make.weights(),
            )
        )
        if batch_norm:
            layers += [
                keras.layers.BatchNormalization(name=f"norm_{block}"),
                keras.layers.ReLU(name=f"relu_{block}"),
            ]
        layers.append(keras.layers.MaxPooling2D(2, name=f"pool_{block}"))
    layers.append(keras.layers.Flatten(name="flatten"))
    for index, units in enumerate(dense_units, start=1):
        layers.append(make.dense(units, "relu", f"hidden_{index}"))
    if dropout:
        layers.append(keras.layers.Dropout(dropout, seed=make.seed(), name="dropout"))
    layers.append(make.output(classes, "softmax", MNIST_PROBABILITIES.name))
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
