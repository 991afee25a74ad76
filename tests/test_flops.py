"""FLOP counts per example, against counts worked out by hand."""

import keras
import numpy as np
import pytest

import modelzoo
from modelzoo.flops import forward_flops, training_flops


def keras_io_convnet():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Conv2D(64, 3, activation="relu"),
            keras.layers.MaxPooling2D(2),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def test_keras_io_convnet_by_hand():
    conv1 = 26 * 26 * 32 * 3 * 3 * 1  # (28 - 3 + 0) / 1 + 1 = 26
    conv2 = 11 * 11 * 64 * 3 * 3 * 32  # after pooling 26 -> 13, (13 - 3) + 1 = 11
    dense = 5 * 5 * 64 * 10  # pooling 11 -> 5
    assert forward_flops(keras_io_convnet()) == 2 * (conv1 + conv2 + dense) == 4_881_920
    assert training_flops(keras_io_convnet()) == 3 * 4_881_920


@pytest.mark.parametrize("name", modelzoo.list_models())
def test_every_zoo_model_counts_its_kernels(name):
    """Each Dense kernel entry is one multiply-add per example; each Conv2D entry one per output pixel."""
    model = modelzoo.create_model(name)
    expected = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            expected += 2 * int(np.prod(layer.kernel.shape)) * int(np.prod(layer.output.shape[1:3]))
        elif isinstance(layer, keras.layers.Dense):
            expected += 2 * int(np.prod(layer.kernel.shape))
    assert forward_flops(model) == expected > 0
