"""Schema tests over every registered model: a new model is covered without editing this file."""

import keras
import numpy as np
import pytest
from conftest import run_python

import modelzoo
from modelzoo import models
from modelzoo.registry import factory_parameters, model_factory

MODELS = modelzoo.list_models()


def example_batch(spec, batch=4, seed=0):
    """A batch that fits an input spec: random pixels for uint8, normal values for floats."""
    rng = np.random.default_rng(seed)
    shape = (batch, *spec.shape[1:])
    if spec.dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.normal(size=shape).astype(spec.dtype)


def test_list_models_takes_a_wildcard():
    assert modelzoo.list_models("*mnist*") == ["softmax_mnist_classifier"]
    assert modelzoo.list_models("no_such_*") == []


@pytest.mark.parametrize("name", MODELS)
def test_every_zoo_model_is_importable_from_modelzoo_models(name):
    """A factory lives in a module of modelzoo.models and is re-exported by name."""
    factory = model_factory(name)
    if factory.__module__.startswith("modelzoo."):  # the zoo's own, not a test's throwaway
        assert factory.__module__.startswith("modelzoo.models.")
        assert getattr(models, name) is factory


@pytest.mark.parametrize("name", MODELS)
def test_checking_arguments_and_reading_the_card_leave_tensorflow_unimported(name):
    """For every registered factory, whatever module it lives in: checks and cards need no TF."""
    module = model_factory(name).__module__  # registers it, in the zoo or outside
    code = (
        f"import sys, modelzoo, {module}\n"
        "from modelzoo.registry import factory_parameters\n"
        f"modelzoo.check_arguments({name!r})\n"
        f"modelzoo.model_card({name!r}).to_dict()\n"
        f"factory_parameters({name!r})\n"
        "heavy = [m for m in ('tensorflow', 'keras') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("name", MODELS)
def test_card_matches_built_model(name):
    card = modelzoo.model_card(name)
    model = modelzoo.create_model(name)
    assert isinstance(model, keras.Sequential)
    assert model.name == card.name
    assert model.count_params() == card.parameters
    (model_input,) = model.inputs
    assert model_input.name == card.input.name
    assert tuple(model_input.shape) == card.input.shape
    assert model_input.dtype == card.input.dtype
    assert model.layers[-1].name == card.output.name
    assert tuple(model.outputs[0].shape) == card.output.shape
    assert model.layers[-1].activation.__name__ == (card.output_activation or "linear")
    assert card.description and card.recipes and card.task
    assert card.recipes == tuple(sorted(card.recipes, key=_builtin_first))


def _builtin_first(recipe):
    from modelzoo import recipe_file

    return recipe_file.recipe_names().index(recipe)


@pytest.mark.parametrize("name", MODELS)
def test_forward_pass_gives_card_output(name):
    card = modelzoo.model_card(name)
    outputs = np.asarray(modelzoo.create_model(name, seed=0)(example_batch(card.input)))
    assert outputs.shape == (4, *card.output.shape[1:])
    assert outputs.dtype == card.output.dtype
    assert np.all(np.isfinite(outputs))
    if card.output_activation == "sigmoid":
        assert np.all((outputs >= 0) & (outputs <= 1))
    if card.output_activation == "softmax":
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", MODELS)
def test_under_mixed_precision_the_output_layer_stays_float32(name):
    """train.precision = "mixed_bfloat16": hidden layers compute in bfloat16, outputs (and the
    loss on them) in float32."""
    from modelzoo.recipe_model import dtype_policy

    if not model_factory(name).__module__.startswith("modelzoo."):
        pytest.skip("a test's throwaway model, not the zoo's")
    card = modelzoo.model_card(name)
    with dtype_policy("mixed_bfloat16"):
        model = modelzoo.create_model(name, seed=0)
    assert keras.config.dtype_policy().name == "float32"
    output = model.layers[-1]
    assert output.name == card.output.name and output.dtype_policy.compute_dtype == "float32"
    for layer in model.layers[:-1]:  # standardizing raw rows, and adapting to them, in float32
        expected = "float32" if isinstance(layer, keras.layers.Normalization) else "bfloat16"
        assert layer.dtype_policy.compute_dtype == expected, layer.name
    outputs = model(example_batch(card.input))
    assert outputs.dtype == "float32" and np.all(np.isfinite(np.asarray(outputs)))


@pytest.mark.parametrize("name", MODELS)
def test_keras_file_round_trip_in_safe_mode(name, tmp_path):
    card = modelzoo.model_card(name)
    model = modelzoo.create_model(name, seed=1)
    batch = example_batch(card.input)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(np.asarray(restored(batch)), np.asarray(model(batch)))


@pytest.mark.parametrize("name", MODELS)
def test_same_seed_same_weights_other_seed_other_weights(name):
    first, again, other = (modelzoo.create_model(name, seed=s).get_weights() for s in (7, 7, 8))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first, other))


@pytest.mark.parametrize("name", MODELS)
def test_initial_kernels_are_small_random_and_distinct(name):
    model = modelzoo.create_model(name, seed=3)
    kernels = [layer.kernel.numpy() for layer in model.layers if hasattr(layer, "kernel")]
    assert kernels
    for kernel in kernels:
        assert np.abs(kernel).max() < 1.5  # Glorot-uniform limit sqrt(6 / (fan_in + fan_out))
        assert np.count_nonzero(kernel) == kernel.size
        if kernel.shape[-1] > 1:  # units do not start identical
            columns = kernel.reshape(-1, kernel.shape[-1]).T
            assert len({c.tobytes() for c in columns}) == len(columns)


def weighted_layers(model):
    return [layer for layer in model.layers if hasattr(layer, "kernel")]


@pytest.mark.parametrize("name", MODELS)
def test_small_normal_initializer_draws_kernels_from_n_0_001_and_zero_biases(name):
    model = modelzoo.create_model(name, initializer="small_normal", seed=3)
    layers = weighted_layers(model)
    assert layers
    for layer in layers:
        kernel = layer.kernel.numpy()
        assert type(layer.kernel_initializer).__name__ == "RandomNormal"
        assert np.abs(kernel).max() < 0.06  # six standard deviations
        assert np.count_nonzero(kernel) == kernel.size
        if kernel.size >= 1000:
            assert 0.008 < kernel.std() < 0.012 and abs(kernel.mean()) < 0.001
        np.testing.assert_array_equal(layer.bias.numpy(), 0.0)
    again, other = (
        modelzoo.create_model(name, initializer="small_normal", seed=s).get_weights()
        for s in (3, 4)
    )
    for a, b in zip(model.get_weights(), again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(model.get_weights(), other))
    default = modelzoo.create_model(name, seed=3)
    assert all(
        type(layer.kernel_initializer).__name__ == "GlorotUniform"
        for layer in weighted_layers(default)
    )


@pytest.mark.parametrize("name", MODELS)
def test_an_unknown_initializer_is_one_line(name):
    with pytest.raises(ValueError) as error:
        modelzoo.create_model(name, initializer="he_normal")
    assert (
        str(error.value)
        == f"{name}: initializer must be one of glorot_uniform, small_normal, got 'he_normal'"
    )


@pytest.mark.parametrize("name", MODELS)
def test_l2_adds_the_weight_penalty(name):
    card = modelzoo.model_card(name)
    model = modelzoo.create_model(name, l2=0.01, seed=0)
    assert not modelzoo.create_model(name, seed=0).losses
    model(example_batch(card.input))
    kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
    expected = sum(0.01 * float(np.sum(np.square(k.numpy()))) for k in kernels)
    assert float(sum(np.asarray(loss) for loss in model.losses)) == pytest.approx(
        expected, rel=1e-5
    )


def _bad_values(default):
    """Values of the wrong type or range for an argument, judged by its default."""
    if isinstance(default, bool):
        return ["yes", 1]
    if isinstance(default, int):
        return [0, -1, "3", 2.5, True]
    if isinstance(default, float):
        return [-1.0, "0.1"]
    if isinstance(default, tuple):
        return [(0,), (-3,), "abc", (1.5,)]
    if isinstance(default, str):
        return ["no-such-option", 3]
    return []


@pytest.mark.parametrize("name", MODELS)
def test_bad_overrides_name_the_argument(name):
    parameters = factory_parameters(name)
    checked = 0
    for argument, parameter in parameters.items():
        default = 0.0 if argument == "rescale" else parameter.default
        for value in _bad_values(default) + ([-1, "x"] if argument == "seed" else []):
            with pytest.raises(ValueError, match=rf"^{name}: {argument}\b"):
                modelzoo.create_model(name, **{argument: value})
            checked += 1
    assert checked >= 6
    with pytest.raises(ValueError, match=r"unknown argument 'no_such_argument'"):
        modelzoo.create_model(name, no_such_argument=1)


@pytest.mark.parametrize("name", MODELS)
def test_card_is_frozen_data(name):
    card = modelzoo.model_card(name)
    with pytest.raises(AttributeError):
        card.parameters = 0
    data = card.to_dict()
    assert data["name"] == name and data["input"]["name"] == card.input.name
    assert "zero" in card.initialization
