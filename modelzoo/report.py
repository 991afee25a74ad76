"""What a run reports: the content of its metrics.json, and the card its export carries."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from modelzoo import export as export_module
from modelzoo import saved_model
from modelzoo.provenance import package_versions
from modelzoo.recipe_file import Recipe

#: Models with at most this many parameters have them written into metrics.json (e.g. w and b).
SMALL_MODEL = 16


@dataclass
class Trained:
    """The model a run tests and exports, and what its training left to report.

    `scores` holds "train", "dev" and (unless the test split was left alone) "test"; with a refit,
    train and dev are the first fit's and `refit` says what the refit trained on.
    """

    model: Any
    scores: dict[str, dict[str, float]]
    epochs_run: int
    seconds: float
    refit: dict[str, Any] | None = None
    #: The test split's inputs, targets and outputs of its one evaluation (the run's report).
    test_predictions: Any = None


def run_metrics(
    recipe: Recipe, trained: Trained, *, resumed: bool, sizes: dict, strategy: str
) -> dict[str, Any]:
    """metrics.json's content for a run that trained (before its weights file and export are added)."""
    model = trained.model
    metrics = {
        "status": "completed",
        "recipe": recipe.name,
        "model": recipe.model,
        "data": recipe.data,
        "seed": recipe.train.seed,
        "epochs_run": trained.epochs_run,
        "train_seconds_this_process": round(trained.seconds, 2),
        "resumed": resumed,
        "sizes": sizes,
        "strategy": strategy,
        **trained.scores,
        "parameters": model.count_params(),
        "versions": package_versions(),
    }
    if trained.refit is not None:
        metrics["refit"] = trained.refit
    if model.count_params() <= SMALL_MODEL:
        metrics["weights"] = {w.path: w.numpy().tolist() for w in model.weights}
    if recipe.predict_inputs:
        metrics["predictions"] = predictions_at(model, recipe.predict_inputs)
    return json.loads(json.dumps(metrics, default=float))


def predictions_at(model, rows: Sequence[Sequence[float]]) -> list[dict]:
    """The model's outputs for feature `rows` (a recipe's [predict] inputs), keyed as its serving signature."""
    import numpy as np

    _, output_key = saved_model.signature_keys(model)
    outputs = model.predict(np.asarray(rows, np.float32), verbose=0)
    return [{"input": list(row), output_key: output.tolist()} for row, output in zip(rows, outputs)]


def export_card(recipe: Recipe, model, metrics: dict[str, Any], info) -> dict[str, Any]:
    """The JSON card written beside a recipe's exported SavedModel."""
    return export_module.make_card(
        model,
        name=recipe.export_name,
        model_name=recipe.model,
        recipe=recipe.to_dict(),
        data={"name": info.name, "sizes": info.sizes, "source": info.source},
        metrics={key: metrics[key] for key in ("train", "dev", "test", "refit") if key in metrics},
        versions=metrics["versions"],
    )
