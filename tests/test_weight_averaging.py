"""The moving average of the weights (`train.ema_momentum`): the optimizer keeps it, and
validation, early stopping, the test clock and the trained model use it."""

import csv

import keras
import numpy as np
import pytest
import tensorflow as tf

from modelzoo import checkpoint, fit, recipe_model, run_folder, training, weight_averaging
from modelzoo import recipe_file as recipes
from modelzoo.weight_averaging import averaged_weights, evaluation_callbacks, keeps_average


def _trained(momentum: float | None):
    """A small model after a few Adam steps, keeping a moving average when `momentum` is set."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
    averaging = {"use_ema": True, "ema_momentum": momentum} if momentum else {}
    model.compile(optimizer=keras.optimizers.Adam(0.1, **averaging), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    for _ in range(5):  # steps, as inside a fit (whose end would copy the average into the model)
        model.train_on_batch(x, x.sum(axis=1))
    return model


def _averages(model) -> list[np.ndarray]:
    return [v.numpy() for v in model.optimizer._model_variables_moving_average]


@pytest.mark.parametrize("steps", [1, 2, 16, 300])
def test_the_average_is_debiased_the_mean_of_a_short_runs_steps(steps):
    """After n steps step i counts (1 - m) m**(n-i) / (1 - m**n), not Keras' m**(n-1) for the first."""
    momentum = 0.99
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    optimizer_class = weight_averaging.debiased(keras.optimizers.SGD)
    model.compile(optimizer=optimizer_class(0.05, use_ema=True, ema_momentum=momentum), loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    kernels = []
    for _ in range(steps):
        model.train_on_batch(x, np.stack([x.sum(axis=1), x[:, 0]], axis=1))
        kernels.append(model.layers[0].kernel.numpy().astype("float64"))
    n = len(kernels)
    shares = [(1 - momentum) * momentum ** (n - i) / (1 - momentum**n) for i in range(1, n + 1)]
    expected = sum(share * kernel for share, kernel in zip(shares, kernels))
    np.testing.assert_allclose(_averages(model)[0], expected, rtol=2e-5, atol=1e-6)
    assert type(model.optimizer).__name__ == "SGD"


def test_the_recipe_momentum_reaches_the_optimizer():
    plain = recipe_model.make_optimizer(recipes.load("xor"), steps_per_epoch=4)
    assert not plain.use_ema
    averaging = recipe_model.make_optimizer(
        recipes.load("xor", {"train.ema_momentum": 0.95}), steps_per_epoch=4
    )
    assert averaging.use_ema and averaging.ema_momentum == pytest.approx(0.95)
    assert isinstance(averaging, keras.optimizers.Adam)
    debiased_update = type(averaging)._update_model_variables_moving_average
    assert debiased_update is not keras.optimizers.Adam._update_model_variables_moving_average


def test_a_model_whose_optimizer_keeps_no_average_is_left_as_it_is():
    model = _trained(None)
    before = model.get_weights()
    assert not keeps_average(model) and evaluation_callbacks(model) == []
    with averaged_weights(model):
        for mine, its in zip(model.get_weights(), before):
            np.testing.assert_array_equal(mine, its)


def test_an_optimizer_that_has_not_stepped_yet_still_gets_the_swap_for_validation():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(use_ema=True), loss="mse")
    assert keeps_average(model)  # before fit builds the average
    assert [type(c).__name__ for c in evaluation_callbacks(model)] == ["ValidateWithAverage"]
    with averaged_weights(model):  # no average yet: nothing to lend
        pass
    # Built before the fit traces its steps, the averages exist but hold zeros until the first
    # step: still nothing to lend.
    own = model.get_weights()
    fit.build_state_before_tracing(
        model, tf.data.Dataset.from_tensor_slices((np.ones((4, 3)), np.ones((4, 1)))).batch(2)
    )
    assert _averages(model) and not any(a.any() for a in _averages(model))
    with averaged_weights(model):
        for mine, its in zip(model.get_weights(), own):
            np.testing.assert_array_equal(mine, its)


def test_averaged_weights_lends_the_average_then_puts_the_own_weights_back():
    model = _trained(0.9)
    own, averages = [w.numpy() for w in model.trainable_weights], _averages(model)
    assert keeps_average(model)
    assert not all(np.array_equal(a, b) for a, b in zip(own, averages))  # they differ
    with averaged_weights(model):
        for weight, average in zip(model.trainable_weights, averages):
            np.testing.assert_array_equal(weight.numpy(), average)
    for weight, value in zip(model.trainable_weights, own):
        np.testing.assert_array_equal(weight.numpy(), value)
    for average, value in zip(_averages(model), averages):  # the average itself untouched
        np.testing.assert_array_equal(average, value)


def test_validation_scores_an_exact_copy_of_the_average_and_gives_the_weights_back_exactly():
    model = _trained(0.9)
    own, averages = [w.numpy() for w in model.trainable_weights], _averages(model)
    (callback,) = evaluation_callbacks(model)
    callback.set_model(model)
    for _ in range(3):  # every epoch's validation
        callback.on_test_begin()
        for weight, average in zip(model.trainable_weights, averages):
            np.testing.assert_array_equal(weight.numpy(), average)
        callback.on_test_end()
    for weight, value in zip(model.trainable_weights, own):  # bit for bit, no rounding
        np.testing.assert_array_equal(weight.numpy(), value)
    for average, value in zip(_averages(model), averages):
        np.testing.assert_array_equal(average, value)


def test_early_stopping_keeps_the_average_as_its_best_weights():
    model = _trained(0.9)
    own, averages = [w.numpy() for w in model.trainable_weights], _averages(model)
    stopping = checkpoint.resumable_early_stopping(
        None, monitor="val_loss", patience=1, restore_best_weights=True
    )
    stopping.set_model(model)
    stopping.on_train_begin()
    stopping.on_epoch_end(0, {"val_loss": 1.0})
    for best, average in zip(stopping.best_weights, averages):
        np.testing.assert_array_equal(best, average)
    for weight, value in zip(model.trainable_weights, own):  # training goes on from its own
        np.testing.assert_array_equal(weight.numpy(), value)


@pytest.mark.slow
def test_a_run_validates_and_ends_with_the_average(tmp_path):
    """The dev loss history.csv records for the last epoch is the trained model's dev loss: both
    are the average's (without the swap for validation, history would hold the last step's)."""
    resolved = recipes.load(
        "diabetes",
        {
            "train.epochs": 3,
            "train.refit": False,
            "train.early_stopping_patience": 0,
            "train.ema_momentum": 0.9,
        },
    )
    result = training.run(resolved, run_dir=tmp_path, export_dir=None, echo=lambda *_: None)
    with open(tmp_path / run_folder.HISTORY_FILE) as rows:
        last = list(csv.DictReader(rows))[-1]
    assert float(last["val_loss"]) == pytest.approx(result.metrics["dev"]["loss"], rel=1e-5)
