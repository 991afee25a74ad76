"""Run folders: one process per folder (a lock naming the holder), a fresh folder per run, stale locks taken over."""

import json
import os
import subprocess
import sys
import time

import pytest

from modelzoo import run_folder
from modelzoo.errors import UsageError

RUN_FILES = ("backup", "history.csv")


def claim(runs_root, run_dir=None, fresh=False, resumable=lambda f: (f / "backup").is_dir()):
    return run_folder.claimed(
        "linear",
        runs_root,
        run_dir,
        fresh,
        resumable=resumable,
        same_recipe=lambda f: True,
        finished=lambda f: (f / "metrics.json").exists(),
        run_files=RUN_FILES,
    )


def test_a_busy_run_dir_is_refused_naming_the_holder(tmp_path):
    with claim(tmp_path, tmp_path / "run") as (folder, _):
        with pytest.raises(
            run_folder.FolderBusy,
            match=rf"run folder .*run is in use by process {os.getpid()}; wait",
        ):
            with claim(tmp_path, folder):
                pass
        assert folder.is_dir()
    with claim(tmp_path, tmp_path / "run") as (again, _):  # released at the end of the block
        assert again == folder


def test_two_runs_started_in_the_same_second_get_their_own_folders(tmp_path):
    with claim(tmp_path) as (first, resuming_first), claim(tmp_path) as (second, resuming_second):
        assert first != second and first.parent == second.parent == tmp_path / "linear"
        assert not resuming_first and not resuming_second


def test_an_interrupted_run_is_resumed_by_one_process_only(tmp_path):
    interrupted = tmp_path / "linear" / "20260101-000000"
    (interrupted / "backup").mkdir(parents=True)
    with claim(tmp_path) as (folder, resuming):
        assert (folder, resuming) == (interrupted, True)
        with claim(tmp_path) as (other, other_resuming):  # a second process starts fresh beside it
            assert other != interrupted and not other_resuming


def test_a_lock_left_by_a_dead_process_is_taken_over(tmp_path):
    folder = tmp_path / "run"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from modelzoo.run_folder import FolderLock; "
                "Path(sys.argv[1]).mkdir(); FolderLock(Path(sys.argv[1])).acquire(); print('held', "
                "flush=True); time.sleep(60)"
            ),
            str(folder),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    with pytest.raises(run_folder.FolderBusy, match=f"in use by process {holder.pid}"):
        with claim(tmp_path, folder):
            pass
    holder.kill()  # kill -9 frees its flock; the PID left in .lock no longer matters
    holder.wait()
    with claim(tmp_path, folder) as (claimed, _):
        assert claimed == folder and run_folder.holder(folder) == os.getpid()


def test_a_run_that_fails_before_writing_leaves_no_folder_it_made(tmp_path):
    with pytest.raises(RuntimeError):
        with claim(tmp_path, tmp_path / "new"):
            raise RuntimeError("data could not be loaded")
    assert not (tmp_path / "new").exists()
    with pytest.raises(RuntimeError):
        with claim(tmp_path):
            raise RuntimeError("data could not be loaded")
    assert list((tmp_path / "linear").iterdir()) == []


def test_an_explicit_folder_with_a_finished_run_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "metrics.json").write_text("{}")
    with pytest.raises(UsageError, match="holds a finished run"):
        with claim(tmp_path, tmp_path / "run"):
            pass


@pytest.mark.slow
def test_two_concurrent_runs_on_one_folder_one_refused_the_other_intact(tmp_path):
    command = [
        sys.executable,
        "-m",
        "modelzoo.recipes",
        "linear",
        "--run-dir",
        str(tmp_path / "run"),
        "--no-export",
    ]
    first = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    deadline = time.monotonic() + 120
    while (
        run_folder.holder(tmp_path / "run") != first.pid
        and not (tmp_path / "run" / "recipe.json").exists()
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    second = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-2000:]
    assert second.returncode == 2
    lines = [line for line in second.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and f"is in use by process {first.pid}" in lines[0], second.stderr
    history = (tmp_path / "run" / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,") and [row.split(",")[0] for row in history[1:]] == [
        str(e) for e in range(30)
    ]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "completed"
