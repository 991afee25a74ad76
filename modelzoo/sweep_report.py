"""A sweep's report: its trials as a table, `sweep.json` and `sweep.png` (the dev metric against
each parameter), and the winner."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import recipe_file as recipes
from modelzoo.errors import UsageError

if TYPE_CHECKING:
    from modelzoo.sweep_space import SearchSpace

SWEEP_FILE = "sweep.json"
PLOT_FILE = "sweep.png"


@dataclass
class Trial:
    """One finished (or failed) trial as the report shows it."""

    trial_id: str
    values: dict[str, Any]
    score: float | None
    status: str
    epochs: int | None = None
    message: str = ""


def best(trials: list[Trial], direction: str) -> Trial:
    finished = [t for t in trials if t.status == "COMPLETED" and t.score is not None]
    if not finished:
        raise UsageError("sweep: no trial finished; see the messages above")
    return (max if direction == "max" else min)(finished, key=lambda t: t.score)


def report(
    space: SearchSpace, trials: list[Trial], folder: Path
) -> tuple[list[tuple[str, ...]], Trial]:
    """The table rows (header first) and the winner; writes sweep.json and sweep.png into `folder`."""
    metric, direction = space.objective
    winner = best(trials, direction)
    rows = [("trial", *[p.label for p in space.parameters], f"dev {metric}", "epochs", "")]
    for t in trials:
        rows.append(
            (
                t.trial_id,
                *[json.dumps(t.values.get(p.field)) for p in space.parameters],
                recipes.format_metric(metric, t.score) if t.score is not None else t.status.lower(),
                str(t.epochs or ""),
                "<- best" if t is winner else "",
            )
        )
    (folder / SWEEP_FILE).write_text(
        json.dumps(
            {
                "recipe": space.base.name,
                "objective": {"metric": f"dev {metric}", "direction": direction},
                "parameters": {p.field: list(p.values) for p in space.parameters},
                "mode": f"random, {space.random_trials} trials" if space.random_trials else "grid",
                "trials": [dataclasses.asdict(t) for t in trials],
                "winner": dataclasses.asdict(winner),
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    plot(space, trials, folder / PLOT_FILE)
    return rows, winner


def plot(space: SearchSpace, trials: list[Trial], path: Path) -> None:
    """One panel per parameter: every finished trial's dev score against that parameter's value."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metric, _ = space.objective
    finished = [t for t in trials if t.score is not None]
    figure, axes = plt.subplots(
        1, len(space.parameters), figsize=(4.5 * len(space.parameters), 3.6), squeeze=False
    )
    for axis, parameter in zip(axes[0], space.parameters):
        numeric = all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in parameter.values
        )
        labels = [json.dumps(v) for v in parameter.values]
        position = (
            (lambda v: v) if numeric else (lambda v, labels=labels: labels.index(json.dumps(v)))
        )
        axis.scatter(
            [position(t.values[parameter.field]) for t in finished], [t.score for t in finished]
        )
        if (
            numeric
            and min(parameter.values) > 0
            and max(parameter.values) / min(parameter.values) >= 10
        ):
            axis.set_xscale("log")
        if not numeric:
            axis.set_xticks(range(len(labels)), labels)
        axis.set_xlabel(parameter.label)
        axis.set_ylabel(f"dev {metric}")
        axis.grid(alpha=0.3)
    figure.suptitle(f"{space.base.name}: dev {metric} per trial")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def describe_values(values: dict[str, Any]) -> str:
    """A trial's values as the command line shows them: 'hidden_units=64 learning_rate=0.001'."""
    return " ".join(
        f"{field.split('.', 1)[1]}={json.dumps(value)}" for field, value in values.items()
    )
