"""`modelzoo evaluate`: reports on shipped weights of each task type, and one-line refusals."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from modelzoo.cli import cli


def evaluate(*args):
    return CliRunner().invoke(cli, ["evaluate", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    "target, data, message",
    [
        ("small_cnn:mnist", "pima_diabetes", "pima_diabetes does not match shipped weights"),
        ("sigmoid_binary_classifier:toy_logistic", "wild_digits", "wild_digits holds grayscale"),
        ("small_cnn:mnist", "no_such_data", "unknown data set 'no_such_data'"),
        ("no/such/folder", "mnist", "neither an export folder, a run folder nor MODEL:TAG"),
    ],
)
def test_a_mismatch_is_refused_in_one_line(target, data, message):
    result = evaluate(target, "--data", data)
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_help_and_mistakes_do_not_import_tensorflow():
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from modelzoo.cli import cli\n"
        "CliRunner().invoke(cli, ['evaluate', '--help'])\n"
        "CliRunner().invoke(cli, ['evaluate', 'small_cnn:mnist', '--data', 'pima_diabetes'])\n"
        "assert 'tensorflow' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "target, data, pictures, key",
    [
        (
            "sigmoid_binary_classifier:toy_logistic",
            "toy_logistic",
            {"confusion_matrix", "reliability", "roc_pr"},
            "binary",
        ),
        ("linear_regression:toy_linear", "toy_linear", {"regression"}, "regression"),
        ("two_layer_perceptron:xor", "xor", None, None),
    ],
)
def test_reports_on_shipped_weights(tmp_path, target, data, pictures, key):
    result = evaluate(target, "--data", data, "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output[result.output.index("{") :])
    assert report == json.loads((tmp_path / "report.json").read_text())
    assert (tmp_path / "report.md").is_file()
    if pictures is not None:
        assert set(report["pictures"]) == pictures
    if key is not None:
        assert key in report
    for file in report["pictures"].values():
        assert (tmp_path / file).read_bytes()[:4] == b"\x89PNG"


def test_binary_accuracy_is_the_recorded_test_accuracy(tmp_path):
    result = evaluate("sigmoid_binary_classifier:toy_logistic", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "report.json").read_text())
    accuracy = report["binary"]["at_threshold"]["accuracy"]
    assert accuracy == pytest.approx(report["recorded"]["accuracy"], abs=1e-6)
    assert "best on dev" in result.output


@pytest.mark.slow
def test_a_run_folder_is_scored_as_its_run_recorded(tmp_path):
    """A run folder's model (recipe.json and model.weights.h5) on its data's test split answers as
    the run's one test evaluation did: the same accuracy, and the report beside the run's own."""
    from modelzoo import recipe_file, training

    run = training.run(
        recipe_file.load("xor", {"train.epochs": 5}),
        run_dir=tmp_path / "run",
        export_dir=None,
        echo=lambda *_: None,
    )
    assert (run.run_dir / "report.md").is_file()  # every run writes its own
    result = evaluate(str(run.run_dir), "--out", str(tmp_path / "again"))
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "again" / "report.json").read_text())
    recorded = json.loads((run.run_dir / "report.json").read_text())
    assert (report["data"], report["split"], report["task"]) == ("xor", "test", "binary")
    accuracy = report["binary"]["at_threshold"]["accuracy"]
    assert accuracy == pytest.approx(run.metrics["test"]["accuracy"], abs=1e-6)
    assert report["binary"] == recorded["binary"]
