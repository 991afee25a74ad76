"""A run's one evaluation on the test split: its scores and the predictions its report is drawn from.

The test pipeline is read once into arrays and the model predicts them once; the loss and the
recipe's metrics are computed from those predictions (`compute_loss`, `compute_metrics`: what
`model.evaluate` computes batch by batch), and the same predictions make the run's report
(`modelzoo.evaluation`). Nothing reads the test split again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from modelzoo import data as data_module
from modelzoo.recipe_file import Recipe

#: Examples per batch when predicting the test split.
BATCH = 256


@dataclass
class Predictions:
    """The test split's inputs and targets, and the model's outputs for them."""

    inputs: np.ndarray
    targets: np.ndarray
    outputs: np.ndarray


def evaluate_test(model, test, size: int) -> tuple[dict[str, float], Predictions]:
    """The scores `model.evaluate(test)` gives (loss and compiled metrics), from one read of the
    `size` examples of `test` and one prediction of them; and those predictions."""
    inputs, targets = data_module.take_arrays(test, size)
    outputs = np.asarray(model.predict(inputs, batch_size=BATCH, verbose=0))
    model.reset_metrics()
    loss = model.compute_loss(x=inputs, y=targets, y_pred=outputs)
    scores = {
        name: float(value)
        for name, value in model.compute_metrics(inputs, targets, outputs).items()
    }
    scores["loss"] = float(loss)
    return scores, Predictions(inputs, targets, outputs)


def write_run_report(
    folder: Path, recipe: Recipe, model, splits, predictions: Predictions
) -> dict[str, Any]:
    """report.json, report.md and their pictures in the run folder, from the test predictions."""
    from modelzoo.datasets.registry import dataset_spec
    from modelzoo.evaluation.report import Evaluated, write_report
    from modelzoo.saved_model import signature_keys

    spec = dataset_spec(recipe.data)
    targets = predictions.targets
    if recipe.one_hot and spec.target == "class":
        targets = targets.argmax(axis=-1)
    dev = None
    if spec.target == "binary":  # the threshold is chosen on dev, never on test
        dev_inputs, dev_targets = data_module.take_arrays(
            splits.for_evaluation("dev"), splits.info.sizes["dev"]
        )
        dev = (dev_targets, np.asarray(model.predict(dev_inputs, batch_size=BATCH, verbose=0)))
    names = list(spec.class_names) or (
        [str(c) for c in range(spec.classes)] if spec.classes else []
    )
    evaluated = Evaluated(
        spec.target,
        targets,
        predictions.outputs,
        signature_keys(model)[1],
        predictions.inputs,
        names,
        dev,
        {"target": f"run {folder}", "data": recipe.data, "split": "test"},
    )
    return write_report(folder, evaluated, f"{recipe.name}: {recipe.model} on {recipe.data} (test)")
