"""Floating-point operations per example of a zoo model, counted layer by layer.

The convention of papers and profilers: a multiply-add is 2 FLOPs, counted for Dense and
Conv2D (the matrix work that dominates); activations, pooling, bias adds and normalization are
left out. Training costs about 3x the forward pass (forward, gradient for the inputs, gradient
for the weights).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import keras

TRAINING_FACTOR = 3


def layer_flops(layer) -> int:
    """Forward FLOPs of one layer for one example (0 for layers without matrix work)."""
    import keras

    if isinstance(layer, keras.layers.Conv2D):
        _, height, width, channels_out = layer.output.shape
        kernel_h, kernel_w = layer.kernel_size
        channels_in = layer.input.shape[-1]
        return 2 * kernel_h * kernel_w * channels_in * channels_out * height * width
    if isinstance(layer, keras.layers.Dense):
        return 2 * layer.input.shape[-1] * layer.units
    return 0


def forward_flops(model: keras.Model) -> int:
    """Forward FLOPs per example: the sum over the model's layers."""
    return sum(layer_flops(layer) for layer in model.layers)


def training_flops(model: keras.Model) -> int:
    """Approximate FLOPs to train on one example (forward and backward)."""
    return TRAINING_FACTOR * forward_flops(model)
