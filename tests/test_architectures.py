"""What each factory promises beyond the schema: layer widths, overrides, the conv size rule."""

import numpy as np
import pytest

import modelzoo
from modelzoo.models import HIDDEN_ACTIVATIONS, conv_output_size


def widths(model):
    return [layer.units for layer in model.layers if hasattr(layer, "units")]


def test_two_layer_perceptron_defaults_fit_xor_and_resize():
    model = modelzoo.create_model("two_layer_perceptron")
    assert widths(model) == [4, 1]
    assert [layer.activation.__name__ for layer in model.layers] == ["sigmoid", "sigmoid"]
    bigger = modelzoo.create_model("two_layer_perceptron", input_dim=3)
    assert bigger.inputs[0].shape == (None, 3) and widths(bigger) == [4, 1]


def test_deep_relu_mlp_stacks_relu_layers():
    model = modelzoo.create_model("deep_relu_mlp")
    assert widths(model) == [6, 4, 1]
    assert [layer.activation.__name__ for layer in model.layers] == ["relu", "relu", "sigmoid"]
    assert (
        modelzoo.create_model("deep_relu_mlp", hidden_units=64).count_params() == 8 * 64 + 64 + 65
    )


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
def test_deep_relu_mlp_hidden_activation_on_request(activation):
    model = modelzoo.create_model("deep_relu_mlp", hidden_units=(6, 4, 3), activation=activation)
    assert [layer.activation.__name__ for layer in model.layers] == [activation] * 3 + ["sigmoid"]


def test_deep_relu_mlp_with_sigmoid_is_the_notes_diabetes_network():
    model = modelzoo.create_model("deep_relu_mlp", activation="sigmoid")
    assert model.inputs[0].shape == (None, 8) and widths(model) == [6, 4, 1]
    assert [layer.activation.__name__ for layer in model.layers] == ["sigmoid"] * 3
    assert model.count_params() == (8 * 6 + 6) + (6 * 4 + 4) + (4 * 1 + 1)


@pytest.mark.parametrize("value", ["softmax", "linear", "gelu", "Sigmoid", None, 1])
def test_deep_relu_mlp_refuses_other_hidden_activations_in_one_line(value):
    message = f"deep_relu_mlp: activation must be one of relu, sigmoid, tanh, got {value!r}"
    with pytest.raises(ValueError) as error:
        modelzoo.check_arguments(
            "deep_relu_mlp", activation=value
        )  # before TensorFlow builds anything
    assert str(error.value) == message
    with pytest.raises(ValueError) as error:
        modelzoo.create_model("deep_relu_mlp", activation=value)
    assert str(error.value) == message


def test_deep_relu_mlp_on_mnist_images_and_as_linear_scores():
    mnist = dict(input_shape=(28, 28, 1), input_dtype="uint8", rescale=1 / 255, output_units=10)
    mlp = modelzoo.create_model(
        "deep_relu_mlp", hidden_units=(128, 64), output_activation="softmax", **mnist
    )
    assert widths(mlp) == [128, 64, 10] and mlp.layers[-1].name == "probabilities"
    linear = modelzoo.create_model(
        "deep_relu_mlp", hidden_units=(), output_activation="linear", **mnist
    )
    assert linear.count_params() == 784 * 10 + 10 and linear.layers[-1].name == "scores"


def test_normalization_layer_takes_raw_feature_rows():
    model = modelzoo.create_model("deep_relu_mlp", normalize=True, seed=0)
    rows = np.random.default_rng(0).normal(100.0, 30.0, size=(64, 8)).astype("float32")
    model.get_layer("standardize").adapt(rows)
    standardized = np.asarray(model.get_layer("standardize")(rows))
    np.testing.assert_allclose(standardized.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(standardized.std(axis=0), 1.0, atol=1e-3)


def test_softmax_mnist_classifier_rescales_pixels_inside():
    model = modelzoo.create_model("softmax_mnist_classifier", hidden_units=32, dropout=0.0)
    assert [layer.name for layer in model.layers] == [
        "rescale",
        "flatten",
        "hidden",
        "probabilities",
    ]
    assert model.get_layer("rescale").scale == pytest.approx(1 / 255)


@pytest.mark.parametrize(
    "size, kernel, padding, stride, expected",
    [(28, 3, 0, 1, 26), (28, 3, 1, 1, 28), (26, 2, 0, 2, 13), (13, 2, 0, 2, 6), (32, 5, 2, 2, 16)],
)
def test_conv_output_size_rule(size, kernel, padding, stride, expected):
    assert conv_output_size(size, kernel, padding, stride) == expected


def test_small_cnn_blocks_follow_the_size_rule():
    model = modelzoo.create_model("small_cnn", filters=(8, 16, 32))
    shapes = [
        tuple(layer.output.shape[1:3])
        for layer in model.layers
        if layer.name.startswith(("conv", "pool"))
    ]
    assert shapes == [(26, 26), (13, 13), (11, 11), (5, 5), (3, 3), (1, 1)]
    same = modelzoo.create_model("small_cnn", filters=(8, 8, 8, 8), padding="same")
    assert tuple(same.get_layer("pool_4").output.shape[1:3]) == (1, 1)


def test_small_cnn_refuses_a_block_that_shrinks_below_one_pixel():
    with pytest.raises(ValueError, match=r"filters: block 4 of 4 gets a 1x1 input"):
        modelzoo.create_model("small_cnn", filters=(8, 8, 8, 8))
    with pytest.raises(ValueError, match=r"block 1 of 1 gets a 28x28 input"):
        modelzoo.create_model("small_cnn", filters=8, kernel_size=29)


def test_small_cnn_other_image_sizes_and_hidden_dense():
    model = modelzoo.create_model("small_cnn", input_shape=(32, 32, 3), dense_units=64, classes=5)
    assert model.inputs[0].shape == (None, 32, 32, 3)
    assert widths(model) == [64, 5]


def test_small_cnn_pooling_keeps_the_largest_value_of_each_2x2_window():
    pool = modelzoo.create_model("small_cnn").get_layer("pool_1")
    assert pool.pool_size == (2, 2) and pool.strides == (2, 2)
    image = np.array([[1, 3, 2, 9], [7, 4, 1, 5], [8, 5, 2, 3], [4, 2, 1, 4]], dtype="float32")
    pooled = np.asarray(pool(image[np.newaxis, :, :, np.newaxis]))[0, :, :, 0]
    np.testing.assert_array_equal(pooled, [[7, 9], [8, 4]])
    assert conv_output_size(4, 2, stride=2) == 2 == pooled.shape[0] == pooled.shape[1]


def test_small_cnn_batch_norm_normalizes_each_convolution_before_its_relu():
    model = modelzoo.create_model("small_cnn", filters=(8, 16), batch_norm=True, dropout=0.0)
    assert [layer.name for layer in model.layers] == [
        "rescale",
        *[f"{kind}_{block}" for block in (1, 2) for kind in ("conv", "norm", "relu", "pool")],
        "flatten",
        "probabilities",
    ]
    for block in (1, 2):
        conv = model.get_layer(f"conv_{block}")
        assert conv.use_bias is False and conv.bias is None
        assert conv.activation.__name__ == "linear"
        assert type(model.get_layer(f"norm_{block}")).__name__ == "BatchNormalization"
        assert type(model.get_layer(f"relu_{block}")).__name__ == "ReLU"
    # kernels without biases; each normalization: gamma, beta, moving mean and variance per filter
    assert model.count_params() == (9 * 8 + 4 * 8) + (9 * 8 * 16 + 4 * 16) + (5 * 5 * 16 * 10 + 10)
    plain = modelzoo.create_model("small_cnn", filters=(8, 16), dropout=0.0)
    assert [layer.name for layer in plain.layers if layer.name.startswith(("norm", "relu"))] == []
    assert (
        plain.get_layer("conv_1").use_bias
        and plain.get_layer("conv_1").activation.__name__ == "relu"
    )
    with pytest.raises(ValueError, match="batch_norm"):
        modelzoo.create_model("small_cnn", batch_norm=1)
