"""A real sweep: three hidden widths of the mnist recipe on the full data, killed midway and resumed.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/sweep_mnist.py [--grid hidden_units=64,128,256]

Runs `python -m modelzoo.recipes sweep mnist --grid ...` in a fresh folder, kills it (SIGKILL)
once the second trial has started, runs the same command again, and records what the rerun did:
the trials it skipped, every trial's dev accuracy, the winner, its test accuracy and its export.
Writes benchmarks/results/sweep_mnist.json and regenerates benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import write_results  # noqa: E402
from benchmarks.machine import child_env, describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "sweep_mnist.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", default="hidden_units=64,128,256")
    args = parser.parse_args()
    env = child_env("inherited")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        command = [
            sys.executable,
            "-m",
            "modelzoo.recipes",
            "sweep",
            "mnist",
            "--grid",
            args.grid,
            "--sweep-dir",
            str(folder / "sweep"),
            "--export-dir",
            str(folder / "saved_models"),
        ]
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        trials = folder / "sweep" / "trials"
        while len(list(trials.glob("*/recipe.json"))) < 2 and process.poll() is None:
            time.sleep(0.1)
        time.sleep(5)  # into the second trial's training
        process.send_signal(signal.SIGKILL)
        process.wait()
        finished_before = sorted(p.parent.name for p in trials.glob("*/metrics.json"))
        print(
            f"killed after {time.perf_counter() - start:.0f} s; finished trials: {finished_before}",
            flush=True,
        )

        rerun = subprocess.run(command, capture_output=True, text=True, env=env)
        print(rerun.stdout)
        if rerun.returncode != 0:
            raise SystemExit(f"the rerun failed:\n{rerun.stderr[-3000:]}")
        rerun_trials = [t for t in finished_before if f"trial {t} (" in rerun.stdout]
        report = json.loads((folder / "sweep" / "sweep.json").read_text())
        winner = json.loads((folder / "sweep" / "winner" / "metrics.json").read_text())
    record = {
        "measured_by": "python benchmarks/sweep_mnist.py"
        + (f" --grid {args.grid}" if args.grid != "hidden_units=64,128,256" else ""),
        "command": "python -m modelzoo.recipes sweep mnist --grid " + args.grid,
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
        "killed_with_finished_trials": finished_before,
        "finished_trials_run_again": rerun_trials,
        "resumed": "resuming the sweep" in rerun.stdout,
        "objective": report["objective"],
        "trials": report["trials"],
        "winner": report["winner"],
        "winner_test": winner["test"],
        "winner_dev": winner["dev"],
        "exported": Path(winner["export"]).relative_to(folder).as_posix(),
    }
    write_results.save(RESULTS, record)


if __name__ == "__main__":
    main()
