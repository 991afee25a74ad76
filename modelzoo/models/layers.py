"""What the zoo's factories share: the lazy `keras`, output names, kernel initializers, seeds.

Every layer with weights is made by `Weighted`: the named kernel initializer (Glorot-uniform, or
N(0, 0.01^2) with `initializer="small_normal"`), zero biases, the L2 penalty lambda * sum(W ** 2)
of every kernel, and a seed per layer drawn from the factory's `seed`. Weights start small and
random (see `registry.RANDOM_INIT`).

`keras` here is a `LazyModule`: a factory's argument checks run before its first use of Keras,
so `registry.check_arguments` can run them with TensorFlow unimported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import keras
else:
    from modelzoo._lazy import LazyModule

    keras = LazyModule("keras")

MNIST_PROBABILITIES = TensorSpec("probabilities", (None, 10), "float32")

#: Output layer name for each output activation: the key a TF Serving client reads.
OUTPUT_NAMES = {"softmax": "probabilities", "sigmoid": "probability"}

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


def output_name(activation: str) -> str:
    return OUTPUT_NAMES.get(activation, "scores")


def layer_seeds(seed: int | None) -> Iterator[int | None]:
    """Distinct, reproducible seeds for successive layers (None: Keras' global seed)."""
    index = 0
    while True:
        yield None if seed is None else seed * 1000 + index
        index += 1


def standardize() -> keras.layers.Normalization:
    """The Normalization layer that standardizes raw feature rows (adapted to the training split).

    It computes in float32 whatever the dtype policy: under mixed precision Keras' `adapt` fails
    on a bfloat16 layer (its float32 statistics meet bfloat16 batch statistics), and raw values
    such as 846 would lose their low digits in bfloat16 before the mean is taken off."""
    return keras.layers.Normalization(name="standardize", dtype="float32")


class Weighted:
    """Makes a factory's layers with weights alike: the named kernel initializer, zero biases and
    the L2 penalty, each layer (and each Dropout) seeded in turn by `layer_seeds(seed)`."""

    def __init__(self, initializer: str, l2: float, seed: int | None) -> None:
        self.initializer = initializer
        self.l2 = l2
        self._seeds = layer_seeds(seed)

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

    def output(self, units: int, activation: str | None, name: str) -> keras.layers.Dense:
        """The model's output layer: a Dense layer that computes in float32 whatever the dtype
        policy, so that under mixed precision the outputs, and the loss on them, stay float32."""
        return keras.layers.Dense(
            units, activation=activation, name=name, dtype="float32", **self.weights()
        )
