"""Choose hyperparameters on the dev split: a grid or random search over recipe fields (KerasTuner).

    python -m modelzoo.recipes sweep mnist --grid hidden_units=32,64,128 --grid learning_rate=1e-3,3e-3
    python -m modelzoo.recipes sweep mnist --grid hidden_units=32,64,128,256 --random 3

Each trial is an ordinary run of the recipe with the trial's values (same seed, so only the
values differ), without the test split and without export; its score is the dev metric
(accuracy where the recipe measures it, else the loss). KerasTuner's oracle proposes the trials
and keeps their state in the sweep folder, so the same command after a crash skips the finished
trials, and an interrupted trial resumes from its last finished epoch. At the end: a table and
`sweep.png` (the dev metric against each parameter), then the winner is trained once more as a
normal run (deterministic: the same model as its trial), evaluated once on the test split and
exported.

modelzoo.sweep_space holds the search space and its checks, modelzoo.sweep_tuner the trials
(KerasTuner), modelzoo.sweep_report the table, sweep.json and the plot.
"""

from modelzoo.sweep_report import (
    PLOT_FILE,
    SWEEP_FILE,
    Trial,
    best,
    describe_values,
    plot,
    report,
)
from modelzoo.sweep_space import Parameter, SearchSpace, make_space, parse_grid, sweep_dir
from modelzoo.sweep_tuner import collect, search

__all__ = [
    "PLOT_FILE",
    "SWEEP_FILE",
    "Parameter",
    "SearchSpace",
    "Trial",
    "best",
    "collect",
    "describe_values",
    "make_space",
    "parse_grid",
    "plot",
    "report",
    "search",
    "sweep_dir",
]
