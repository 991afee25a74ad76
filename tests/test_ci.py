"""The CI script itself: it must leave nothing behind outside the clone."""

import os
import shutil
import stat
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A stand-in `python3` whose venv "activates" to no-op python, pip and ruff: enough to run the script's
# own logic (README check, temp folders, cleanup) without installing anything.
FAKE_PYTHON3 = """#!/usr/bin/env bash
# python3 -m venv DIR
mkdir -p "$3/bin"
printf 'python() { return 0; }\\npip() { return 0; }\\nruff() { return 0; }\\n' > "$3/bin/activate"
mkdir -p "$3/lib" && head -c 1000 /dev/zero > "$3/lib/big"
"""


def test_ci_run_removes_its_temporary_folders(tmp_path):
    clone = tmp_path / "clone"
    (clone / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", clone / ".ci" / "run")
    shutil.copy(ROOT / "README.md", clone / "README.md")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "python3"
    fake.write_text(FAKE_PYTHON3)
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "TMPDIR": str(temp)}
    env.pop("TFDS_DATA_DIR", None)
    result = subprocess.run(
        ["bash", str(clone / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert list(temp.iterdir()) == []
