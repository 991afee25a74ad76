"""Quiet recipe runs for the benchmarks that repeat a recipe over seeds or settings."""

from __future__ import annotations

import tempfile

from modelzoo import recipe_file, training


def metrics_of(name: str, overrides: dict, *, evaluate_test: bool = True) -> dict:
    """The metrics.json of one run of recipe `name` with `overrides`, in a temporary run folder,
    exported nowhere and printing nothing."""
    resolved = recipe_file.load(name, overrides)
    with tempfile.TemporaryDirectory() as folder:
        return training.run(
            resolved,
            runs_root=folder,
            export_dir=None,
            evaluate_test=evaluate_test,
            echo=lambda *_: None,
        ).metrics


def accuracies(name: str, overrides: dict, seeds) -> tuple[list[float], list[float]]:
    """(test, dev) accuracies, rounded to 4 places, of one run per seed."""
    test, dev = [], []
    for seed in seeds:
        metrics = metrics_of(name, {**overrides, "train.seed": seed})
        test.append(round(metrics["test"]["accuracy"], 4))
        dev.append(round(metrics["dev"]["accuracy"], 4))
    return test, dev
