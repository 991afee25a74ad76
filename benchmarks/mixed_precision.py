"""Mixed bfloat16 against float32, and oneDNN's CPU kernels against TensorFlow's default ones, on
this machine's CPU: what `train.precision = "auto"` picks, and what modelzoo's commands gain by
turning oneDNN on (`modelzoo.hardware.prefer_onednn`).

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/mixed_precision.py [--repeats 1]
        [--fraction 0.05]

For each configuration (float32 with TensorFlow's default kernels for this CPU, that is
TF_ENABLE_ONEDNN_OPTS unset; float32 and mixed bfloat16 with oneDNN's, as modelzoo's commands
train), `mnist_cnn` built and compiled as its recipe trains it (batches of 256, its
steps per call), trained on the first `--fraction` of MNIST's training split in a fresh process
(training_cost.py's epoch timing: the median epoch after the first, which traces the graph).
Records the CPU's vector unit and bfloat16 flags, the epoch time, examples per second and the
kernels TensorFlow reported of each configuration, and the policy "auto" resolves to here (`modelzoo.hardware`). Writes
benchmarks/results/mixed_precision.json, keeping the records of CPUs other than this one, and
regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe  # noqa: E402
from benchmarks.training_cost import spawn  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "mixed_precision.json"
RECIPE = "mnist_cnn"
#: (precision, TF_ENABLE_ONEDNN_OPTS): None leaves TensorFlow's default for the CPU.
CONFIGURATIONS = (("float32", None), ("float32", "1"), ("mixed_bfloat16", "1"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    args = parser.parse_args()

    from modelzoo import hardware

    os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # the CPU, even where TensorFlow would see a GPU
    rows = []
    for precision, onednn in CONFIGURATIONS:
        job = {
            "kind": "epoch",
            "recipe": RECIPE,
            "fraction": args.fraction,
            "mirror": args.data_mirror,
            "overrides": {"train.precision": precision},
            "onednn": onednn,
        }
        runs = [spawn(job) for _ in range(args.repeats)]
        seconds = statistics.median(run["seconds"] for run in runs)
        examples = runs[0]["examples"]
        rows.append(
            {
                "precision": precision,
                "onednn": "default" if onednn is None else onednn,
                "kernels": runs[0]["kernels"],
                "examples": examples,
                "epoch_seconds": round(seconds, 3),
                "examples_per_s": round(examples / seconds),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    flags = hardware.cpu_flags()
    cpu = {
        "machine": describe(),
        "vector_unit": hardware.describe_vector_unit(flags),
        "bfloat16_flags": sorted(flags & hardware.BFLOAT16_CPU_FLAGS),
        "auto": hardware.auto_precision(flags, gpus=[]),
        "measured_by": "python benchmarks/mixed_precision.py"
        + (f" --repeats {args.repeats}" if args.repeats != 1 else "")
        + (f" --fraction {args.fraction}" if args.fraction != 0.05 else ""),
        "date": time.strftime("%Y-%m-%d"),
        "recipe": RECIPE,
        "rows": rows,
    }
    record = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"cpus": []}
    record["cpus"] = [c for c in record["cpus"] if c["machine"] != cpu["machine"]] + [cpu]
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
