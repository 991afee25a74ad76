"""Time the commands that must answer at once (target < 0.5 s) and record the medians.

    python benchmarks/cli_latency.py [--runs 15]

Each command runs in a fresh process, as a user would type it; the figure is the wall time
from start to exit. Writes benchmarks/results/cli_latency.json.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "cli_latency.json"
BIN = Path(sys.executable).parent
COMMANDS = [
    [str(BIN / "modelzoo"), "--help"],
    [str(BIN / "modelzoo"), "list"],
    [sys.executable, "-m", "modelzoo", "list", "--json"],
    [sys.executable, "-m", "modelzoo.recipes", "--help"],
    [sys.executable, "-m", "modelzoo.recipes", "list"],
    [str(BIN / "modelzoo"), "data"],
]


def time_command(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, check=True, capture_output=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    rows = []
    for command in COMMANDS:
        times = time_command(command, args.runs)
        shown = " ".join(
            [
                "modelzoo" if c.endswith("/modelzoo") else "python" if c == sys.executable else c
                for c in command
            ]
        )
        rows.append(
            {
                "command": shown,
                "runs": args.runs,
                "median_s": round(statistics.median(times), 4),
                "max_s": round(max(times), 4),
            }
        )
        print(f"{shown:45s} median {rows[-1]['median_s']:.3f} s  max {rows[-1]['max_s']:.3f} s")
    write_results.save(
        RESULTS,
        {
            "measured_by": "python benchmarks/cli_latency.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "target_s": 0.5,
            "commands": rows,
        },
    )


if __name__ == "__main__":
    main()
