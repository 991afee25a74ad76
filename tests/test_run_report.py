"""Every run writes report.md from its one test evaluation, and reads the test split only once."""

import json

import pytest
import tensorflow as tf

from modelzoo import recipe_file as recipes
from modelzoo import training

pytestmark = pytest.mark.slow


def counting_test_split(monkeypatch):
    """Make every run's test pipeline count the examples read from it; return the counts."""
    counted = []
    real_load = training.data_module.load

    def bump(batch_size):
        counted.append(int(batch_size))
        return batch_size

    def load(*args, **kwargs):
        splits = real_load(*args, **kwargs)

        def count(x, y):
            seen = tf.py_function(bump, [tf.shape(x)[0]], tf.int32)
            with tf.control_dependencies([seen]):
                return tf.identity(x), y

        splits.test = splits.test.map(count)
        return splits

    monkeypatch.setattr(training.data_module, "load", load)
    return counted


@pytest.mark.parametrize(
    "name, pictures, key",
    [
        ("logistic", {"confusion_matrix", "reliability", "roc_pr"}, "binary"),
        ("linear", {"regression"}, "regression"),
        ("diabetes", {"confusion_matrix", "reliability", "roc_pr"}, "binary"),  # with a refit
    ],
)
def test_a_run_reports_on_its_one_test_evaluation(name, pictures, key, tmp_path, monkeypatch):
    counted = counting_test_split(monkeypatch)
    recipe = recipes.load(name, {"train.epochs": 2, "data.max_examples": 64})
    result = training.run(recipe, runs_root=tmp_path, export_dir=None, echo=lambda *_: None)
    assert sum(counted) == result.metrics["sizes"]["test"]  # every test example read once
    report = json.loads((result.run_dir / "report.json").read_text())
    assert set(report["pictures"]) == pictures and key in report
    markdown = (result.run_dir / "report.md").read_text()
    for file in report["pictures"].values():
        assert (result.run_dir / file).read_bytes()[:4] == b"\x89PNG"
        assert f"]({file})" in markdown
    if key == "binary":  # the report's accuracy is the run's test accuracy
        at = report["binary"]["at_threshold"]["accuracy"]
        assert at == pytest.approx(result.metrics["test"]["accuracy"], abs=1e-6)
        assert "dev_threshold" in report["binary"]
    else:
        assert report["regression"]["mae"] == pytest.approx(
            result.metrics["test"]["mean_absolute_error"], rel=1e-5
        )


def test_the_test_scores_are_what_model_evaluate_gives(tmp_path):
    recipe = recipes.load("logistic", {"train.epochs": 2, "data.max_examples": 64})
    result = training.run(recipe, runs_root=tmp_path, export_dir=None, echo=lambda *_: None)
    from modelzoo import data
    from modelzoo.recipe_model import build_model, compile_model

    model = build_model(recipe, pretrained=False)
    model.load_weights(str(result.run_dir / "model.weights.h5"))
    compile_model(model, recipe, 64)
    splits = data.load(recipe.data, batch_size=recipe.train.batch_size, max_examples=64)
    expected = model.evaluate(splits.test, verbose=0, return_dict=True)
    for metric, value in expected.items():
        assert result.metrics["test"][metric] == pytest.approx(value, rel=1e-5, abs=1e-6)


@pytest.mark.integration
def test_an_mnist_run_reports_with_its_mistakes(tmp_path, mirror):
    recipe = recipes.load("mnist_cnn", {"train.epochs": 1, "data.max_examples": 64})
    result = training.run(recipe, runs_root=tmp_path, export_dir=None, echo=lambda *_: None)
    report = json.loads((result.run_dir / "report.json").read_text())
    assert set(report["pictures"]) == {"confusion_matrix", "mistakes", "reliability"}
    assert report["classification"]["accuracy"] == pytest.approx(
        result.metrics["test"]["accuracy"], abs=1e-6
    )
