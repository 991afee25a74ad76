"""benchmarks/RESULTS.md is exactly what the recorded JSON files render to."""

from pathlib import Path

from benchmarks import write_results

RESULTS_MD = Path(__file__).resolve().parent.parent / "benchmarks" / "RESULTS.md"


def test_results_page_is_current():
    assert write_results.render() == RESULTS_MD.read_text(), "run: python benchmarks/write_results.py"


def test_every_results_figure_names_its_command():
    text = RESULTS_MD.read_text()
    for section in ("side_by_side.py", "cpu_peak.py", "cli_latency.py", "inference.py", "training_cost.py", "sweep_mnist.py",
                    "choose_augmentation.py", "weights_reproducibility.py"):
        assert f"python benchmarks/{section}" in text
