"""Shared test set-up: quiet TensorFlow, a helper that runs Python in a fresh process."""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (nothing imported yet) and capture its output."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def fresh_python():
    return run_python


@pytest.fixture(scope="session")
def mirror():
    """The real-data mirror (MODELZOO_DATA_MIRROR); skipped without one, except under CI."""
    from pathlib import Path

    folder = os.environ.get("MODELZOO_DATA_MIRROR")
    if folder and Path(folder, "mnist").is_dir():
        return Path(folder).resolve()
    reason = (
        "no real-data mirror: set MODELZOO_DATA_MIRROR to a folder whose mnist/ holds the four "
        "MNIST .gz files (e.g. ../shared/data) to run the integration tests"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
