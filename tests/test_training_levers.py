"""The [train] levers on the model side: the warm-up schedule, and building under mixed precision."""

import keras
import numpy as np
import pytest

from modelzoo import recipe_file as recipes
from modelzoo import recipe_model
from modelzoo.recipe_model import build_model, make_optimizer

STEPS_PER_EPOCH = 10


def rates(recipe, steps, steps_per_epoch=STEPS_PER_EPOCH):
    """The learning rate the recipe's optimizer uses at each of `steps`."""
    optimizer = make_optimizer(recipe, steps_per_epoch)
    found = []
    for step in steps:
        optimizer.iterations.assign(step)
        found.append(float(optimizer.learning_rate))
    return found


def xor(**train):
    return recipes.load(
        "xor",
        {
            "train.learning_rate": 0.1,
            "train.epochs": 4,
            **{f"train.{k}": v for k, v in train.items()},
        },
    )


def test_warmup_rises_linearly_from_zero_then_cosine_decays_to_zero():
    recipe = xor(schedule="cosine", warmup_epochs=1)
    warmup, total = STEPS_PER_EPOCH, 4 * STEPS_PER_EPOCH
    up = rates(recipe, range(warmup + 1))
    np.testing.assert_allclose(up, [0.1 * step / warmup for step in range(warmup + 1)], atol=1e-7)
    after = rates(recipe, range(warmup, total + 1))
    # cosine over the steps left after the warm-up, from the rate down to 0
    expected = [
        0.05 * (1 + np.cos(np.pi * (step - warmup) / (total - warmup)))
        for step in range(warmup, total + 1)
    ]
    np.testing.assert_allclose(after, expected, atol=1e-6)
    assert rates(recipe, [total, total + 50]) == [0.0, 0.0]


def test_a_fractional_warmup_counts_steps_of_its_epochs():
    recipe = xor(schedule="cosine", warmup_epochs=0.5)
    assert rates(recipe, [0, 5]) == pytest.approx([0.0, 0.1], abs=1e-7)
    assert rates(recipe, [4]) == pytest.approx([0.08], abs=1e-7)


def test_constant_schedule_with_warmup_holds_the_rate_after_it():
    recipe = xor(schedule="constant", warmup_epochs=1.5)
    assert rates(recipe, [0, 5, 15]) == pytest.approx([0.0, 0.1 / 3, 0.1], abs=1e-7)
    assert rates(recipe, [16, 25, 39, 40, 100]) == pytest.approx([0.1] * 5, abs=1e-7)


def test_without_warmup_the_schedules_are_as_before():
    total = 4 * STEPS_PER_EPOCH
    assert rates(xor(), [0, 20, total]) == pytest.approx([0.1] * 3)
    before = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=total)
    steps = [0, 1, 10, 20, 39, 40]
    np.testing.assert_allclose(
        rates(xor(schedule="cosine"), steps), [float(before(step)) for step in steps], atol=1e-7
    )
    assert rates(xor(schedule="cosine"), [0, 20, total]) == pytest.approx(
        [0.1, 0.05, 0.0], abs=1e-7
    )


def test_steps_per_execution_reaches_compile():
    recipe = recipes.load("xor", {"train.steps_per_execution": 4})
    model = build_model(recipe)
    recipe_model.compile_model(model, recipe, examples=64)
    assert model.steps_per_execution == 4


def _computes_in(layer):
    return layer.dtype_policy.compute_dtype


def test_mixed_precision_computes_hidden_layers_in_bfloat16_and_outputs_in_float32():
    recipe = recipes.load(
        "mnist_cnn", {"train.precision": "mixed_bfloat16", "model.batch_norm": True}
    )
    model = build_model(recipe)
    *hidden, output = model.layers
    assert {_computes_in(layer) for layer in hidden} == {"bfloat16"}
    assert _computes_in(output) == "float32" and output.name == "probabilities"
    assert {weight.dtype for weight in model.weights} == {"float32"}
    probabilities = model(np.zeros((2, 28, 28, 1), "uint8"))
    assert probabilities.dtype == "float32"
    assert model.get_layer("conv_1")(np.zeros((1, 28, 28, 1), "float32")).dtype == "bfloat16"
    assert keras.config.dtype_policy().name == "float32"

    # the copy a mixed-precision run tests and exports computes in float32 throughout
    copy = recipe_model.one_device_copy(model, recipe)
    assert {_computes_in(layer) for layer in copy.layers} == {"float32"}
    for mine, its in zip(copy.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(mine, its)


def test_a_float32_recipe_builds_in_float32():
    model = build_model(recipes.load("mnist"))
    assert {_computes_in(layer) for layer in model.layers} == {"float32"}
    assert keras.config.dtype_policy().name == "float32"


def test_the_global_dtype_policy_is_put_back_when_the_factory_raises(monkeypatch):
    recipe = recipes.load("xor", {"train.precision": "mixed_bfloat16"})
    seen = []

    def failing(name, **arguments):
        seen.append(keras.config.dtype_policy().name)
        raise RuntimeError("factory failed")

    monkeypatch.setattr(recipe_model, "create_model", failing)
    with pytest.raises(RuntimeError, match="factory failed"):
        build_model(recipe)
    assert seen == ["mixed_bfloat16"]
    assert keras.config.dtype_policy().name == "float32"


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_the_one_device_copy_answers_as_the_trained_model_normalization_included(precision):
    """The copy a run tests and exports (under a strategy or mixed precision) standardizes its
    inputs with the statistics adapted to the training split, not the unadapted ones."""
    import tensorflow as tf

    from modelzoo import data

    recipe = recipes.load("diabetes", {"train.precision": precision})
    splits = data.load(recipe.data, batch_size=16)
    model = recipe_model.compiled_model(
        recipe, tf.distribute.get_strategy(), splits.train, splits.info.sizes["train"]
    )
    copy = recipe_model.one_device_copy(model, recipe)
    inputs, _ = data.take_arrays(splits.test, 32)
    tolerance = 1e-6 if precision == "float32" else 2e-2  # bfloat16 keeps 8 bits of mantissa
    np.testing.assert_allclose(np.asarray(copy(inputs)), np.asarray(model(inputs)), atol=tolerance)
