"""Narrower convolutions for mnist_cnn: does the time they save cost accuracy? Judged on dev
splits over 3 seeds.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/conv_width.py [--seeds 0,1,2]

The second convolution is about 85% of `mnist_cnn`'s FLOPs (`modelzoo.flops`; its cost grows with
the product of the two layers' filters). Each candidate (the recipe with `model.filters` as now
or narrower) trains in a fresh process per seed (benchmarks/dev_runs.py). For each run: the MNIST
dev accuracy after every epoch (what "time to 99%" hinges on), the final MNIST dev accuracy and
the held-out digits' dev accuracy, the median epoch time and model.fit's wall time. Writes
benchmarks/results/conv_width.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import dev_runs  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "conv_width.json"
#: (label, overrides of the mnist_cnn recipe) in the order they run.
CANDIDATES = (
    ("filters 32, 64", {"model.filters": [32, 64]}),
    ("filters 32, 48", {"model.filters": [32, 48]}),
    ("filters 24, 48", {"model.filters": [24, 48]}),
)


def main() -> None:
    dev_runs.study(__doc__, "conv_width.py", RESULTS, CANDIDATES)


if __name__ == "__main__":
    main()
