"""modelzoo's own Keras losses and compiling a recipe's loss by name: values, config, .keras files."""

import keras
import numpy as np
import pytest

from modelzoo import recipe_file as recipes
from modelzoo import recipe_model
from modelzoo.keras_losses import MulticlassHinge
from modelzoo.losses import LOSSES, OWN_LOSSES, keras_loss, loss_problem
from modelzoo.registry import create_model


def reference_multiclass_hinge(
    scores: np.ndarray, labels: np.ndarray, margin: float = 1.0
) -> np.ndarray:
    """Per example: the sum over the wrong classes j of max(0, s_j - s_y + margin), with plain loops."""
    losses = np.zeros(len(scores))
    for i, (row, label) in enumerate(zip(scores, labels.reshape(-1).astype(int))):
        losses[i] = sum(
            max(0.0, row[j] - row[label] + margin) for j in range(len(row)) if j != label
        )
    return losses


@pytest.mark.parametrize(
    "scores, label, ours, keras_value",
    [
        ([1.0, 1.5, 1.5], 0, 3.0, 1.5),
        ([0.0, 0.0, 0.0], 0, 2.0, 1.0),
        ([-2.0, -3.0, 0.5], 2, 0.0, 0.5),
    ],
)
def test_the_sources_examples_and_how_categorical_hinge_differs(scores, label, ours, keras_value):
    scores = np.array([scores], dtype="float32")
    assert float(MulticlassHinge()(np.array([label]), scores)) == pytest.approx(ours)
    one_hot = np.eye(scores.shape[1], dtype="float32")[[label]]
    assert float(keras.losses.CategoricalHinge()(one_hot, scores)) == pytest.approx(keras_value)


@pytest.mark.parametrize("batch, classes", [(1, 2), (7, 3), (32, 10), (5, 100)])
@pytest.mark.parametrize("label_shape", ["(B,)", "(B, 1)"])
@pytest.mark.parametrize("label_dtype", ["int64", "float32"])
def test_matches_the_numpy_reference_and_averages_over_the_batch(
    batch, classes, label_shape, label_dtype
):
    rng = np.random.default_rng(batch * 1000 + classes)
    scores = rng.normal(scale=2.0, size=(batch, classes)).astype("float32")
    labels = rng.integers(0, classes, size=batch)
    expected = reference_multiclass_hinge(scores, labels)
    given = (labels if label_shape == "(B,)" else labels[:, None]).astype(label_dtype)
    loss = MulticlassHinge()
    np.testing.assert_allclose(
        np.asarray(loss.call(keras.ops.convert_to_tensor(given), scores)),
        expected,
        rtol=1e-5,
        atol=1e-5,
    )
    assert float(loss(given, scores)) == pytest.approx(expected.mean(), rel=1e-5, abs=1e-5)


def test_a_margin_other_than_one():
    scores, labels = np.array([[0.0, 0.5, -1.0]], dtype="float32"), np.array([0])
    assert float(MulticlassHinge(margin=2.0)(labels, scores)) == pytest.approx(2.5 + 1.0)


def test_config_round_trips():
    loss = MulticlassHinge(margin=0.5, name="svm")
    again = MulticlassHinge.from_config(loss.get_config())
    assert (
        again.get_config()
        == loss.get_config()
        == {"name": "svm", "reduction": "sum_over_batch_size", "margin": 0.5}
    )
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(revived, MulticlassHinge) and revived.margin == 0.5


def test_a_model_compiled_with_it_survives_a_keras_file(tmp_path):
    model = create_model(
        "deep_relu_mlp",
        input_shape=(4,),
        hidden_units=(),
        output_units=3,
        output_activation="linear",
        seed=0,
    )
    model.compile(optimizer="adam", loss=keras_loss("multiclass_hinge"), metrics=["accuracy"])
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = np.arange(16) % 3
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "svm.keras")
    restored = keras.models.load_model(tmp_path / "svm.keras")
    assert isinstance(restored.loss, MulticlassHinge)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(
        model.evaluate(x, y, verbose=0), rel=1e-6
    )


def test_every_loss_name_compiles():
    for name in LOSSES:
        compiled = keras_loss(name)
        assert (
            compiled == name if name not in OWN_LOSSES else isinstance(compiled, keras.losses.Loss)
        )
    assert isinstance(keras_loss("multiclass_hinge"), MulticlassHinge)


def test_the_mnist_hinge_recipe_compiles_with_its_loss_by_name():
    recipe = recipes.load("mnist_hinge")
    assert recipe.train.loss == "multiclass_hinge" and not recipe.one_hot  # integer labels
    model = recipe_model.build_model(recipe)
    recipe_model.compile_model(model, recipe, examples=1000)
    assert isinstance(model.loss, MulticlassHinge)
    scores = np.zeros((2, 10), dtype="float32")
    assert float(model.loss(np.array([3, 7]), scores)) == pytest.approx(
        9.0
    )  # nine margins of 1 each


def test_mean_absolute_error_validates_on_a_regression_and_trains():
    recipe = recipes.load(
        "linear", {"train.loss": "mean_absolute_error", "train.learning_rate": 0.05}
    )
    assert loss_problem(recipe.train.loss, recipe.model, recipe.model_args, recipe.data) is None
    keras.utils.set_random_seed(0)
    model = recipe_model.build_model(recipe)
    recipe_model.compile_model(model, recipe, examples=256)
    x = np.linspace(-1, 1, 256, dtype="float32")[:, None]
    y = 2 * x + 0.5
    before = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    model.fit(x, y, batch_size=32, epochs=30, verbose=0)
    after = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert after < 0.1 < before
    assert after == pytest.approx(float(np.mean(np.abs(model.predict(x, verbose=0) - y))), rel=1e-4)
