"""Does a moving average of the weights pay on mnist_cnn? Judged on dev splits over 3 seeds.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/weight_averaging.py [--seeds 0,1,2]

Each candidate (the recipe with `train.ema_momentum` off or on, and with fewer epochs) trains
`mnist_cnn` in a fresh process per seed (benchmarks/dev_runs.py). For each run: the MNIST dev
accuracy after every epoch (what "time to 99%" hinges on: the validation scores the average where
there is one), the final MNIST dev accuracy and the held-out digits' dev accuracy, and model.fit's
wall time. Writes
benchmarks/results/weight_averaging.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import dev_runs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "weight_averaging.json"
#: (label, overrides of the mnist_cnn recipe) in the order they run.
CANDIDATES = (
    ("no average, 5 epochs", {"train.ema_momentum": 0.0, "train.epochs": 5}),
    ("average (momentum 0.99), 5 epochs", {"train.ema_momentum": 0.99, "train.epochs": 5}),
    ("average (momentum 0.99), 4 epochs", {"train.ema_momentum": 0.99, "train.epochs": 4}),
)


def main() -> None:
    # How the average was kept (benchmarks/write_results.py says so for older records).
    dev_runs.study(__doc__, "weight_averaging.py", RESULTS, CANDIDATES, {"average": "debiased"})


if __name__ == "__main__":
    main()
