"""tf.distribute: the strategy options, mirrored over logical CPU devices, and multi-worker on 127.0.0.1."""

import contextlib
import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from modelzoo.checkpoint import Backup
from modelzoo.distribute import Placement
from modelzoo.errors import UsageError
from modelzoo.storage import version_numbers

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}


def cluster(workers=2, chief=False):
    # Free ports, all held until each task has its own, then released for the tasks to bind.
    with contextlib.ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(workers + chief)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        ports = [s.getsockname()[1] for s in sockets]
    spec = {"worker": [f"127.0.0.1:{p}" for p in ports[chief:]]}
    if chief:
        spec["chief"] = [f"127.0.0.1:{ports[0]}"]
    return spec


def tf_config(spec, task_type, index):
    return json.dumps({"cluster": spec, "task": {"type": task_type, "index": index}})


def test_roles_come_from_tf_config():
    spec = cluster(2)
    first = Placement.parse("multi-worker", environ={"TF_CONFIG": tf_config(spec, "worker", 0)})
    second = Placement.parse("multi-worker", environ={"TF_CONFIG": tf_config(spec, "worker", 1)})
    assert first.is_chief and first.worker_name == "" and first.workers == 2
    assert not second.is_chief and second.worker_name == "worker-1"
    with_chief = cluster(1, chief=True)
    assert Placement.parse(
        "multi-worker", environ={"TF_CONFIG": tf_config(with_chief, "chief", 0)}
    ).is_chief
    assert not Placement.parse(
        "multi-worker", environ={"TF_CONFIG": tf_config(with_chief, "worker", 0)}
    ).is_chief
    assert Placement.parse("default").is_chief and Placement.parse("mirrored", 2).cpu_replicas == 2


@pytest.mark.parametrize(
    "strategy, replicas, config, message",
    [
        ("tpu", None, None, "is not one of default, mirrored, multi-worker"),
        ("default", 2, None, "--cpu-replicas goes with --strategy mirrored"),
        ("mirrored", 0, None, "--cpu-replicas must be a positive integer"),
        ("multi-worker", None, None, "needs the TF_CONFIG environment variable"),
        ("multi-worker", None, "{not json", "is not a usable cluster description"),
        (
            "multi-worker",
            None,
            '{"cluster": {"worker": ["a:1"]}}',
            "is not a usable cluster description",
        ),
        (
            "multi-worker",
            None,
            '{"cluster": {"worker": ["a:1"]}, "task": {"type": "worker", "index": 3}}',
            "task index 3 is not in the cluster's worker list of 1",
        ),
        (
            "multi-worker",
            None,
            '{"cluster": {"ps": ["a:1"]}, "task": {"type": "ps", "index": 0}}',
            "cannot train",
        ),
    ],
)
def test_bad_placements_are_one_clear_line(strategy, replicas, config, message):
    environ = {} if config is None else {"TF_CONFIG": config}
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Placement.parse(strategy, replicas, environ=environ)


@pytest.mark.slow
def test_mirrored_without_gpus_says_it_runs_one_replica(tmp_path):
    import tensorflow as tf
    from click.testing import CliRunner
    from modelzoo.recipes.__main__ import main

    assert (
        Placement.parse("mirrored", 2).note() is None and Placement.parse("default").note() is None
    )
    result = CliRunner().invoke(
        main,
        [
            "xor",
            "--strategy",
            "mirrored",
            "--epochs",
            "1",
            "--no-export",
            "--run-dir",
            str(tmp_path / "run"),
        ],
    )
    assert result.exit_code == 0, result.output
    if tf.config.list_physical_devices("GPU"):
        assert Placement.parse("mirrored").note() is None
    else:
        assert (
            "--strategy mirrored: no GPU found, so this runs 1 replica on the CPU, as --strategy default would; "
            "--cpu-replicas N splits the CPU"
        ) in result.output.splitlines()[0]


def recipes_cli(*args, env=ENV, **kwargs):
    return [sys.executable, "-m", "modelzoo.recipes", *args], dict(env=env, **kwargs)


@pytest.mark.longest
@pytest.mark.slow
@pytest.mark.integration
def test_mirrored_over_two_cpu_devices_matches_one_device(tmp_path, mirror):
    common = ["mnist", "--epochs", "2", "--max-examples", "4000", "--data-mirror", str(mirror)]
    results = {}
    for label, extra in [
        ("default", []),
        ("mirrored", ["--strategy", "mirrored", "--cpu-replicas", "2"]),
    ]:
        command, options = recipes_cli(
            *common,
            *extra,
            "--run-dir",
            str(tmp_path / label),
            "--publish-anyway",
            "--export-dir",
            str(tmp_path / f"saved_{label}"),
        )
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, **options)
        assert done.returncode == 0, done.stderr[-3000:]
        results[label] = json.loads((tmp_path / label / "metrics.json").read_text())
        assert version_numbers(tmp_path / f"saved_{label}" / "mnist") == [
            1
        ]  # exported and verified like any run
    assert results["mirrored"]["strategy"] == "mirrored (2 replicas)"
    assert results["default"]["strategy"] == "default (1 replica)"
    assert results["default"]["test"]["accuracy"] > 0.85
    assert (
        abs(results["mirrored"]["test"]["accuracy"] - results["default"]["test"]["accuracy"])
        <= 0.02
    )


@pytest.mark.slow
def test_the_moving_average_of_the_weights_works_across_mirrored_replicas(tmp_path):
    """The average is kept per replica and lent to validation under the strategy: the last
    epoch's dev loss is the trained model's."""
    command, options = recipes_cli(
        "diabetes",
        "--strategy",
        "mirrored",
        "--cpu-replicas",
        "2",
        "--epochs",
        "3",
        "--set",
        "train.ema_momentum=0.9",
        "--set",
        "train.refit=false",
        "--set",
        "train.early_stopping_patience=0",
        "--no-export",
        "--run-dir",
        str(tmp_path / "run"),
    )
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, **options)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["strategy"] == "mirrored (2 replicas)"
    with (tmp_path / "run" / "history.csv").open() as f:
        last = list(csv.DictReader(f))[-1]
    assert float(last["val_loss"]) == pytest.approx(metrics["dev"]["loss"], rel=1e-5)


def _history_rows(path):
    if not path.exists():
        return 0
    with path.open() as f:
        return sum(1 for _ in csv.DictReader(f))


def start_workers(spec, tmp_path, epochs, batch_size=16):
    """One process per worker of `spec`, training the logistic recipe (generated data, nothing to prepare).

    Each step is an all-reduce between the processes (~40 ms here): a larger batch makes fewer."""
    processes = []
    for index in range(len(spec["worker"])):
        command, options = recipes_cli(
            "logistic",
            "--strategy",
            "multi-worker",
            "--epochs",
            str(epochs),
            "--batch-size",
            str(batch_size),
            "--run-dir",
            str(tmp_path / "run"),
            "--export-dir",
            str(tmp_path / "saved_models"),
            "--publish-anyway",
            # one thread pool each: two workers share this machine's cores
            env={
                **ENV,
                "TF_CONFIG": tf_config(spec, "worker", index),
                "TF_NUM_INTRAOP_THREADS": "1",
                "TF_NUM_INTEROP_THREADS": "1",
            },
        )
        log = open(tmp_path / f"worker-{index}.log", "a")
        processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **options))
    return processes


def wait_all(processes, timeout):
    deadline = time.monotonic() + timeout
    try:
        return [p.wait(timeout=max(1, deadline - time.monotonic())) for p in processes]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()


@pytest.mark.slow
def test_multi_worker_trains_and_only_the_chief_exports(tmp_path):
    codes = wait_all(start_workers(cluster(2), tmp_path, epochs=3, batch_size=64), timeout=300)
    logs = [(tmp_path / f"worker-{i}.log").read_text() for i in range(2)]
    assert codes == [0, 0], "\n".join(log[-2000:] for log in logs)
    assert version_numbers(tmp_path / "saved_models" / "logistic") == [1]
    chief = json.loads((tmp_path / "run" / "metrics.json").read_text())
    worker = json.loads((tmp_path / "run.worker-1" / "metrics.json").read_text())
    assert chief["strategy"] == worker["strategy"] == "multi-worker (2 workers, 2 replicas in sync)"
    assert chief["epochs_run"] == worker["epochs_run"] == 3
    assert chief["test"]["accuracy"] >= 0.9 and "export" in chief and "export" not in worker
    assert "SavedModel: not exported" in logs[1]


@pytest.mark.longest
@pytest.mark.slow
def test_losing_a_worker_fails_clearly_and_the_rerun_resumes(tmp_path):
    spec, epochs = cluster(2), 8
    chief, worker = start_workers(spec, tmp_path, epochs, batch_size=64)
    deadline = time.monotonic() + 240
    while (
        _history_rows(tmp_path / "run.worker-1" / "history.csv") < 2 and time.monotonic() < deadline
    ):
        assert chief.poll() is None and worker.poll() is None, (
            tmp_path / "worker-0.log"
        ).read_text()[-2000:]
        time.sleep(0.05)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait()
    assert wait_all([chief], timeout=180) != [0]
    log = (tmp_path / "worker-0.log").read_text()
    errors = [
        line for line in log.splitlines() if line.startswith("python -m modelzoo.recipes: error:")
    ]
    assert (
        errors
        and "lost contact with another worker" in errors[0]
        and "start the same command again" in errors[0]
    )
    assert "Traceback" not in log
    assert (
        not (tmp_path / "saved_models" / "logistic").exists()
        or version_numbers(tmp_path / "saved_models" / "logistic") == []
    )

    # The unluckiest kill: the worker had logged its epoch but not yet saved it, one epoch behind the chief.
    chief_backup, worker_backup = (
        Backup(tmp_path / "run" / "backup"),
        Backup(tmp_path / "run.worker-1" / "backup"),
    )
    assert chief_backup.epochs()[0] >= 2
    if worker_backup.epochs()[0] == chief_backup.epochs()[0]:
        state = json.loads((worker_backup.folder / "state.json").read_text())
        (worker_backup.folder / "state.json").write_text(json.dumps(state["previous"]))
    assert worker_backup.epochs()[0] == chief_backup.epochs()[0] - 1

    codes = wait_all(start_workers(spec, tmp_path, epochs, batch_size=64), timeout=300)
    assert codes == [0, 0], "\n".join(
        (tmp_path / f"worker-{i}.log").read_text()[-2000:] for i in range(2)
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["resumed"] is True and metrics["epochs_run"] == epochs
    for folder in ("run", "run.worker-1"):
        with (tmp_path / folder / "history.csv").open() as f:
            assert [int(row["epoch"]) for row in csv.DictReader(f)] == list(range(epochs))
    assert version_numbers(tmp_path / "saved_models" / "logistic") == [1]
