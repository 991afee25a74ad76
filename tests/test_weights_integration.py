"""Every shipped set of weights, re-evaluated on the real data: its recorded metrics cannot drift from its file."""

import pytest

from modelzoo import data, evaluate
from modelzoo import recipe_file as recipes
from modelzoo import weights as shipped
from modelzoo.losses import keras_loss
from modelzoo.registry import create_model

ENTRIES = shipped.STORE.entries()
pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.mark.parametrize("entry", ENTRIES, ids=[w.key for w in ENTRIES])
def test_shipped_weights_reproduce_their_recorded_test_metrics(entry, request):
    recipe = recipes.load(entry.recipe)
    mirror = (
        request.getfixturevalue("mirror")
        if data.dataset_spec(recipe.data).tfds_name == "mnist"
        else None
    )
    splits = data.load(
        recipe.data,
        batch_size=recipe.train.batch_size,
        seed=recipe.train.seed,
        mirror=mirror,
        one_hot=recipe.one_hot,
    )
    assert splits.info.sizes == entry.data["sizes"]
    model = create_model(entry.model, weights=entry.tag)
    model.compile(loss=keras_loss(recipe.train.loss), metrics=list(recipe.train.metrics))
    scores = model.evaluate(splits.test, verbose=0, return_dict=True)
    examples = splits.info.sizes["test"]
    for metric, recorded in entry.metrics["test"].items():
        if metric == "accuracy":  # to within one example
            assert abs(scores[metric] - recorded) * examples <= 1 + 1e-6, (
                metric,
                scores[metric],
                recorded,
            )
        else:
            assert scores[metric] == pytest.approx(recorded, rel=1e-4), metric


@pytest.mark.parametrize(
    "entry",
    [w for w in ENTRIES if "wild_digits_test" in w.metrics],
    ids=[w.key for w in ENTRIES if "wild_digits_test" in w.metrics],
)
def test_held_out_digits_accuracy_is_reproduced_and_meets_its_goal(entry):
    model = create_model(entry.model, weights=entry.tag)
    for split in ("dev", "test"):
        scores, recorded = evaluate.wild_digits(model, split), entry.metrics[f"wild_digits_{split}"]
        assert scores["examples"] == recorded["examples"]
        assert abs(scores["accuracy"] - recorded["accuracy"]) * recorded["examples"] <= 1 + 1e-6, (
            split
        )
    goal = recipes.load(entry.recipe).targets.wild_digits_accuracy
    if goal is not None:
        assert entry.metrics["wild_digits_test"]["accuracy"] >= goal


def test_every_mnist_model_is_scored_on_the_held_out_digits():
    mnist_input = data.DATASETS["mnist"].input
    for entry in ENTRIES:
        if data.dataset_spec(entry.data["name"]).input == mnist_input:
            assert {"wild_digits_dev", "wild_digits_test"} <= set(entry.metrics), entry.key
    with_goals = [
        name
        for name in recipes.builtin_names()
        if recipes.load(name).targets.wild_digits_accuracy is not None
    ]
    assert with_goals and set(with_goals) <= {w.recipe for w in ENTRIES}
