"""benchmarks/RESULTS.md is exactly what the recorded JSON files render to."""

from pathlib import Path

from benchmarks import write_results

RESULTS_MD = Path(__file__).resolve().parent.parent / "benchmarks" / "RESULTS.md"


def test_results_page_is_current():
    assert write_results.render() == RESULTS_MD.read_text(), (
        "run: python benchmarks/write_results.py"
    )


def test_every_results_figure_names_its_command():
    text = RESULTS_MD.read_text()
    for section in (
        "side_by_side.py",
        "cpu_peak.py",
        "cli_latency.py",
        "inference.py",
        "training_cost.py",
        "sweep_mnist.py",
        "choose_augmentation.py",
        "weights_reproducibility.py",
    ):
        assert f"python benchmarks/{section}" in text


def test_a_worked_examples_summary_shows_its_line_and_its_answers():
    from benchmarks.publish_weights import details

    metrics = {
        "weights": {"m/prediction/kernel": [[1.97]], "m/prediction/bias": [0.56]},
        "predictions": [{"input": [4.0], "prediction": [8.453]}],
    }
    assert (
        details(metrics, "loss 0.0005")
        == "loss 0.0005; w = 1.970, b = 0.560; prediction 8.453 at x = 4"
    )
    assert (
        details(metrics, "w = 1.970, b = 0.560, test MSE 0.1")
        == "w = 1.970, b = 0.560, test MSE 0.1; prediction 8.453 at x = 4"
    )
    assert (
        details({"weights": {"a/kernel": [[1.0, 2.0]], "a/bias": [0.0, 0.0]}}, "accuracy 90%")
        == "accuracy 90%"
    )
