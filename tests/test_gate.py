"""The publishing gate (issue 15, item 13): only a run that meets the recipe's target and is not worse
than the served version becomes a version; the rest are kept as candidates no server loads."""

import json
import os
import sys

import pytest
from conftest import recipes_in_process

from modelzoo import gate
from modelzoo import recipe_file as recipes
from modelzoo.storage import version_folders

MNIST = gate.PublishSettings("accuracy", minimum=0.98, tolerance=0.002)


def card(accuracy, test_size=10000, data="mnist", fingerprint="new"):
    return {
        "data": {"name": data, "sizes": {"test": test_size}},
        "metrics": {"test": {"accuracy": accuracy, "loss": 0.1}},
        "publish": {"weights_sha256": fingerprint},
    }


def served(accuracy, version=3, **kwargs):
    return (
        version,
        f"saved_models/mnist/{version}",
        {**card(accuracy, **kwargs), "publish": {"weights_sha256": "old"}},
    )


def test_a_run_below_the_target_is_a_candidate_with_one_line_why():
    record = gate.decide(MNIST, card(0.1135), max_examples=None, served_now=None)
    assert record["decision"] == "candidate" and not record["forced"]
    assert (
        record["reason"] == "test accuracy 11.35% misses the recipe's target (accuracy >= 98.00%)"
    )
    assert (record["metric"], record["value"], record["minimum"], record["tolerance"]) == (
        "accuracy",
        0.1135,
        0.98,
        0.002,
    )
    forced = gate.decide(
        MNIST, card(0.1135), max_examples=None, served_now=None, publish_anyway=True
    )
    assert (
        forced["decision"] == "published"
        and forced["forced"]
        and "--publish-anyway" in forced["reason"]
    )


def test_a_run_on_part_of_the_test_split_is_a_candidate_whatever_it_scored():
    record = gate.decide(MNIST, card(0.99, test_size=500), max_examples=500, served_now=None)
    assert (
        record["decision"] == "candidate"
        and "tested on 500 examples (data.max_examples = 500)" in record["reason"]
    )


def test_the_served_version_is_compared_within_the_tolerance():
    within = gate.decide(MNIST, card(0.9845), max_examples=None, served_now=served(0.9860))
    assert within["decision"] == "published" and (
        within["served_version"],
        within["served_value"],
    ) == (3, 0.9860)
    assert "within the tolerance 0.20% of served version 3's 98.60%" in within["reason"]
    worse = gate.decide(MNIST, card(0.9830), max_examples=None, served_now=served(0.9860))
    assert worse["decision"] == "candidate"
    assert (
        "worse than served version 3's 98.60% by more than the tolerance 0.20%" in worse["reason"]
    )
    better = gate.decide(MNIST, card(0.9900), max_examples=None, served_now=served(0.9860))
    assert (
        better["decision"] == "published"
        and "not worse than served version 3's 98.60%" in better["reason"]
    )


def test_lower_is_better_for_a_loss_target():
    linear = gate.PublishSettings("loss", maximum=0.015, tolerance=0.001)

    def linear_card(loss):
        return {**card(0, data="toy_linear"), "metrics": {"test": {"loss": loss}}}

    assert (
        gate.decide(linear, linear_card(0.011), max_examples=None, served_now=None)["decision"]
        == "published"
    )
    assert (
        gate.decide(linear, linear_card(0.02), max_examples=None, served_now=None)["decision"]
        == "candidate"
    )
    served = (1, "saved_models/linear/1", {**linear_card(0.0100), "publish": {}})
    assert (
        gate.decide(linear, linear_card(0.0109), max_examples=None, served_now=served)["decision"]
        == "published"
    )
    assert (
        gate.decide(linear, linear_card(0.0112), max_examples=None, served_now=served)["decision"]
        == "candidate"
    )


@pytest.mark.parametrize(
    "other, why",
    [
        (dict(test_size=500), "it was tested on 500 examples, this run on 10000"),
        (dict(data="wild_digits"), "it was tested on 'wild_digits', not 'mnist'"),
    ],
)
def test_a_served_version_tested_on_other_data_is_not_compared(other, why):
    record = gate.decide(MNIST, card(0.985), max_examples=None, served_now=served(0.999, **other))
    assert record["decision"] == "published" and record["served_not_compared"] == why
    assert (
        "served_value" not in record and f"served version 3 not compared: {why}" in record["reason"]
    )


def test_without_a_target_only_the_served_version_gates():
    settings = gate.PublishSettings("accuracy")
    assert (
        gate.decide(settings, card(0.5), max_examples=None, served_now=None)["decision"]
        == "published"
    )
    assert (
        gate.decide(settings, card(0.5), max_examples=None, served_now=served(0.6))["decision"]
        == "candidate"
    )


def test_the_served_versions_weights_again_publish_nothing():
    again = {**card(0.99), "publish": {"weights_sha256": "old"}}
    assert (
        gate.decide(MNIST, again, max_examples=None, served_now=served(0.99))["decision"]
        == "unchanged"
    )


def test_the_served_weights_again_asked_for_a_format_it_lacks_publish_anew(tmp_path):
    version = tmp_path / "mnist" / "3"
    version.mkdir(parents=True)
    (version / "saved_model.pb").write_text("stand-in")
    again = {**card(0.99), "publish": {"weights_sha256": "old"}}
    now = (3, version, served(0.99)[2])
    kept = gate.decide(MNIST, again, max_examples=None, served_now=now, formats=("savedmodel",))
    assert kept["decision"] == "unchanged"
    wanted = ("savedmodel", "onnx")
    record = gate.decide(MNIST, again, max_examples=None, served_now=now, formats=wanted)
    assert record["decision"] == "published", record["reason"]
    (tmp_path / "mnist" / "formats" / "3").mkdir(parents=True)
    (tmp_path / "mnist" / "formats" / "3" / "model.onnx").write_bytes(b"stand-in")
    record = gate.decide(MNIST, again, max_examples=None, served_now=now, formats=wanted)
    assert record["decision"] == "unchanged"


def test_publish_table_is_checked_and_overridable():
    assert recipes.load("mnist").publish == gate.PublishSettings(
        "accuracy", minimum=0.98, tolerance=0.002
    )
    assert recipes.load("linear").publish.maximum == 0.015
    assert recipes.load("mnist", {"publish.minimum": 0.5}).publish.minimum == 0.5
    for sets, message in [
        ({"publish.maximum": 0.5}, "accuracy is better higher"),
        ({"publish.metric": "auc"}, "must be a metric the run measures"),
        ({"publish.tolerance": -1}, "must be >= 0"),
        ({"publish.minimum": "high"}, "must be a finite number"),
        ({"publish.mimimum": 1}, "unknown field"),
    ]:
        with pytest.raises(recipes.RecipeError, match=message):
            recipes.load("mnist", sets)


def test_benchmark_targets_are_the_recipes():
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    from benchmarks.publish_weights import recipe_target

    for name in recipes.builtin_names():
        assert recipe_target(name).settings == recipes.load(name).publish, name


def _recipe(*args) -> str:
    """`python -m modelzoo.recipes ARGS` in this process; its standard output."""
    done = recipes_in_process(*args)
    assert done.exit_code == 0, (done.output[-3000:], done.exception)
    return done.stdout


def _run_xor(tmp_path, run, *extra):
    out = _recipe(
        "xor",
        "--epochs",
        "3",
        "--run-dir",
        str(tmp_path / run),
        "--export-dir",
        str(tmp_path / "saved_models"),
        *extra,
    )
    return out, json.loads((tmp_path / run / "metrics.json").read_text())


@pytest.mark.slow
def test_a_smoke_run_lands_as_a_candidate_no_server_loads(tmp_path):
    """Three epochs of xor score 50%, below its 100% target: on the old code this became saved_models/xor/1."""
    from modelzoo import export
    from modelzoo.serving import ModelRepository

    out, metrics = _run_xor(tmp_path, "one")
    model_dir = tmp_path / "saved_models" / "xor"
    assert version_folders(model_dir) == {}, "nothing published"
    (candidate,) = (model_dir / "candidates").iterdir()
    assert metrics["publish"]["decision"] == "candidate" and metrics["export"] == str(candidate)
    line = next(line for line in out.splitlines() if line.startswith("not published: "))
    assert (
        "misses the recipe's target (accuracy >= 100.00%)" in line
        and f"kept as candidate {candidate}" in line
    )
    assert "--publish-anyway" in line
    card = json.loads((candidate / "assets.extra" / "model_card.json").read_text())
    assert (
        card["publish"]["decision"] == "candidate"
        and card["publish"]["value"] == metrics["test"]["accuracy"]
    )
    repository = ModelRepository(tmp_path / "saved_models")
    repository.refresh(settle=False)
    assert repository.models() == {}, "modelzoo serve does not load a candidate"

    out, metrics = _run_xor(tmp_path, "again")  # the same run again: one candidate is enough
    assert (
        metrics["publish"]["decision"] == "unchanged"
        and len(list((model_dir / "candidates").iterdir())) == 1
    )

    out, metrics = _run_xor(tmp_path, "forced", "--publish-anyway")
    assert list(version_folders(model_dir)) == [1] and metrics["publish"]["forced"] is True
    assert "published as version 1: published anyway (--publish-anyway)" in out
    card = json.loads((model_dir / "1" / "assets.extra" / "model_card.json").read_text())
    assert card["publish"]["decision"] == "published" and card["publish"]["forced"] is True

    out, metrics = _run_xor(
        tmp_path, "same"
    )  # the served version's weights again: nothing new to serve
    assert metrics["publish"]["decision"] == "unchanged" and list(version_folders(model_dir)) == [1]
    assert "nothing new to publish: the same weights are already version 1" in out
    assert metrics["export"] == str(
        model_dir / "1"
    )  # the run's export is the version that holds its weights
    # Even forced: a rerun of a run killed after its version was renamed into place publishes no duplicate.
    out, metrics = _run_xor(tmp_path, "same-forced", "--publish-anyway")
    assert metrics["publish"]["decision"] == "unchanged" and list(version_folders(model_dir)) == [1]
    # The same weights asked for in a format version 1 lacks: a new version that has it.
    out, metrics = _run_xor(tmp_path, "litert", "--publish-anyway", "--format", "litert")
    assert list(version_folders(model_dir)) == [1, 2] and metrics["export"] == str(model_dir / "2")
    assert f"litert: {model_dir / 'formats' / '2' / 'model.tflite'} (" in out

    promoted = export.promote(candidate)
    assert promoted == model_dir / "3" and not candidate.exists()
    assert (
        json.loads((promoted / "assets.extra" / "model_card.json").read_text())["publish"]["forced"]
        is True
    )


@pytest.mark.slow
@pytest.mark.integration
def test_a_max_examples_mnist_run_is_a_candidate_until_published_anyway(tmp_path, mirror):
    from modelzoo.serving import ModelRepository

    command = [
        "mnist",
        "--epochs",
        "1",
        "--max-examples",
        "500",
        "--data-mirror",
        str(mirror),
        "--export-dir",
        str(tmp_path / "saved_models"),
    ]
    out = _recipe(*command, "--run-dir", str(tmp_path / "run"))
    assert "tested on 500 examples (data.max_examples = 500)" in out
    model_dir = tmp_path / "saved_models" / "mnist"
    assert version_folders(model_dir) == {} and len(list((model_dir / "candidates").iterdir())) == 1
    repository = ModelRepository(tmp_path / "saved_models")
    repository.refresh(settle=False)
    assert repository.models() == {}

    _recipe(*command, "--run-dir", str(tmp_path / "forced"), "--publish-anyway")
    assert list(version_folders(model_dir)) == [1]
    repository.refresh(settle=False)
    assert repository.models() == {"mnist": 1}
    repository.stop()
