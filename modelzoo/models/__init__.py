"""The zoo: factory functions that return uncompiled `keras.Sequential` models.

Every layer is a linear map followed by a non-linear activation: ReLU in hidden layers (the deep
MLP takes sigmoid or tanh on request), sigmoid for one binary output, softmax for several
classes, none for regression scores. Each factory checks its arguments first (a bad value fails
before TensorFlow loads), then lists its layers top to bottom. Inputs and outputs carry fixed
names because they become the keys of the TF Serving signature. Weights start small and random
(see `registry.RANDOM_INIT`): Glorot-uniform kernels, or N(0, 0.01^2) ones with
`initializer="small_normal"`, and zero biases; `seed` fixes them, and `l2` adds the penalty
lambda * sum(W ** 2) of every kernel to the loss.

A model is one decorated function: `@register_model(...)` on a factory in a module of this
package, listed in the imports below. Importing this package (which `import modelzoo` does)
registers the zoo; the registry itself imports no model module.
"""

from modelzoo.models import cnn, linear, mlp
from modelzoo.models.cnn import conv_output_size, small_cnn
from modelzoo.models.layers import (
    INITIALIZERS,
    MNIST_PROBABILITIES,
    OUTPUT_NAMES,
    SMALL_NORMAL_STDDEV,
    keras,
)
from modelzoo.models.linear import linear_regression, sigmoid_binary_classifier
from modelzoo.models.mlp import (
    HIDDEN_ACTIVATIONS,
    MNIST_IMAGE,
    deep_relu_mlp,
    softmax_mnist_classifier,
    two_layer_perceptron,
)

__all__ = [
    "HIDDEN_ACTIVATIONS",
    "INITIALIZERS",
    "MNIST_IMAGE",
    "MNIST_PROBABILITIES",
    "OUTPUT_NAMES",
    "SMALL_NORMAL_STDDEV",
    "cnn",
    "conv_output_size",
    "deep_relu_mlp",
    "keras",
    "linear",
    "linear_regression",
    "mlp",
    "sigmoid_binary_classifier",
    "small_cnn",
    "softmax_mnist_classifier",
    "two_layer_perceptron",
]
