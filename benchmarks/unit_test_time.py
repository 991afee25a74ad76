"""Time the unit tests and count the tests of each marker, for the README's Tests section.

    python benchmarks/unit_test_time.py

Runs `python -m pytest -n auto --dist worksteal -m "not slow and not integration"` once in a fresh process without
a data mirror (as a new user's first run; one pytest-xdist worker per core, as CI runs the suite),
and counts what the `slow` and `integration` markers select.
Writes benchmarks/results/unit_test_time.json.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks import write_results  # noqa: E402
from benchmarks.machine import describe  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "unit_test_time.json"
UNIT = "not slow and not integration"
#: pytest-xdist: one worker per CPU core, as the README's test command and CI run the tests.
PARALLEL = ("-n", "auto", "--dist", "worksteal")
ENV = {k: v for k, v in os.environ.items() if k not in ("MODELZOO_DATA_MIRROR", "CI")}


def pytest(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=ENV,
    )


def count(marker: str) -> tuple[int, int]:
    """(selected, all) tests for a marker expression."""
    found = re.search(
        r"(\d+)/(\d+) tests collected", pytest("--collect-only", "-q", "-m", marker).stdout
    )
    if not found:
        raise SystemExit(f"pytest --collect-only -m {marker!r} printed no count")
    return int(found.group(1)), int(found.group(2))


def main() -> None:
    start = time.perf_counter()
    result = pytest(*PARALLEL, "-m", UNIT)  # not -q: it hides the "N workers" line
    seconds = time.perf_counter() - start
    workers = re.search(r"(\d+) workers \[", result.stdout)
    passed = re.search(r"(\d+) passed", result.stdout)
    if result.returncode == 0 and passed and not workers:
        raise SystemExit(f"pytest printed no 'N workers' line:\n{result.stdout[:2000]}")
    if result.returncode != 0 or not passed:
        raise SystemExit(
            f"the unit tests did not all pass:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )
    unit, total = count(UNIT)
    slow, _ = count("slow and not integration")
    integration, _ = count("integration")
    skipped = re.search(r"(\d+) skipped", result.stdout)
    skipped = int(skipped.group(1)) if skipped else 0
    if unit != int(passed.group(1)) + skipped:
        raise SystemExit(f"{passed.group(1)} passed and {skipped} skipped but {unit} selected")
    print(
        f"{passed.group(1)} unit tests passed ({skipped} skipped) in {seconds:.1f} s; {slow} slow, {integration} "
        f"integration, {total} in all"
    )
    write_results.save(
        RESULTS,
        {
            "measured_by": "python benchmarks/unit_test_time.py",
            "date": time.strftime("%Y-%m-%d"),
            "machine": describe(),
            "unit_marker": UNIT,
            "unit_command": f'python -m pytest {" ".join(PARALLEL)} -m "{UNIT}"',
            "workers": int(workers.group(1)),
            "unit_tests": unit,
            "unit_tests_skipped": skipped,  # e.g. the file-permission rows, which root cannot test
            "unit_seconds": round(seconds, 1),
            "slow_tests": slow,
            "integration_tests": integration,
            "all_tests": total,
        },
    )


if __name__ == "__main__":
    main()
