"""Hyperparameter search on the dev split: the search space, and a real sweep killed and resumed."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import recipes_in_process

from modelzoo import sweep
from modelzoo.errors import UsageError
from modelzoo.storage import version_numbers


def test_grid_fields_and_values():
    space = sweep.make_space(
        "mnist", ["hidden_units=32,64", "learning_rate=1e-3,3e-3", "model.dropout=0,0.5"]
    )
    assert [(p.field, p.values) for p in space.parameters] == [
        ("model.hidden_units", (32, 64)),
        ("train.learning_rate", (0.001, 0.003)),
        ("model.dropout", (0.0, 0.5)),  # one type per parameter
    ]
    assert space.grid_size == space.trials == 8
    assert space.objective == ("accuracy", "max")
    assert space.recipe_for({"model.hidden_units": 64}).model_args["hidden_units"] == 64
    assert sweep.make_space("linear", ["learning_rate=0.1,0.01"]).objective == ("loss", "min")
    assert sweep.make_space("mnist", ["optimizer=adam,sgd"]).parameters[0].values == ("adam", "sgd")
    lists = sweep.make_space("mnist_mlp", ["hidden_units=[64,32],[128]"]).parameters[0]
    assert lists.values == ([64, 32], [128])
    assert sweep.make_space("mnist", ["hidden_units=32,64,128"], random_trials=2).trials == 2


def test_the_same_search_finds_the_same_folder(tmp_path):
    one = sweep.make_space("mnist", ["hidden_units=32,64"])
    assert sweep.sweep_dir(one, tmp_path) == sweep.sweep_dir(
        sweep.make_space("mnist", ["hidden_units=32,64"]), tmp_path
    )
    assert sweep.sweep_dir(one, tmp_path) != sweep.sweep_dir(
        sweep.make_space("mnist", ["hidden_units=32,128"]), tmp_path
    )
    assert sweep.sweep_dir(one, tmp_path) != sweep.sweep_dir(
        sweep.make_space("mnist", ["hidden_units=32,64"], {"train.epochs": 2}), tmp_path
    )
    with pytest.raises(UsageError, match="a field is given twice"):
        sweep.make_space("mnist", ["hidden_units=32", "model.hidden_units=64"])


@pytest.mark.longest
@pytest.mark.slow
@pytest.mark.integration
def test_sweep_selects_on_dev_exports_the_winner_and_resumes_without_repeating(tmp_path, mirror):
    command = [
        sys.executable,
        "-m",
        "modelzoo.recipes",
        "sweep",
        "mnist",
        "--grid",
        "hidden_units=8,16,32",
        "--epochs",
        "1",
        "--max-examples",
        "2000",
        "--data-mirror",
        str(mirror),
        "--sweep-dir",
        str(tmp_path / "sweep"),
        "--export-dir",
        str(tmp_path / "saved_models"),
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    trials = tmp_path / "sweep" / "trials"
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    deadline = time.monotonic() + 300
    # into the second trial: the first one finished and recorded
    while (
        len(list(trials.glob("*/recipe.json"))) < 2
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    finished = {p.parent.name: p.stat().st_mtime_ns for p in trials.glob("*/metrics.json")}
    assert len(finished) == 1, "killed in the second trial"
    assert not (tmp_path / "saved_models").exists()

    # The rest in this process (a fresh one would import TensorFlow again): the CLI all the same.
    arguments = command[3:]
    resumed = recipes_in_process(*arguments)
    assert resumed.exit_code == 0, (resumed.output[-3000:], resumed.exception)
    assert (
        "resuming the sweep" in resumed.stdout
        and "1 of 3 trials already finished" in resumed.stdout
    )
    for trial_id, mtime in finished.items():  # the finished trial was not run again
        assert (trials / trial_id / "metrics.json").stat().st_mtime_ns == mtime
        assert f"trial {trial_id} (" not in resumed.stdout

    report = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    scores = {json.dumps(t["values"]): t["score"] for t in report["trials"]}
    assert len(scores) == 3 and all(t["status"] == "COMPLETED" for t in report["trials"])
    assert report["winner"]["score"] == max(scores.values())
    for trial in trials.iterdir():  # trials never look at the test split
        assert "test" not in json.loads((trial / "metrics.json").read_text())
    assert (tmp_path / "sweep" / "sweep.png").stat().st_size > 0
    winner = json.loads((tmp_path / "sweep" / "winner" / "metrics.json").read_text())
    assert winner["dev"]["accuracy"] == pytest.approx(report["winner"]["score"], abs=1e-6), (
        "retrained to the same model"
    )
    # exactly one export, through the gate: one epoch on 2000 examples is kept as a candidate, not published
    assert "test" in winner and version_numbers(tmp_path / "saved_models" / "mnist") == []
    assert [winner["export"]] == [
        str(p) for p in (tmp_path / "saved_models" / "mnist" / "candidates").iterdir()
    ]
    assert winner["publish"]["decision"] == "candidate" and "not published: " in resumed.stdout
    assert "<- best" in resumed.stdout and "SavedModel: " in resumed.stdout

    again = recipes_in_process(*arguments)
    assert again.exit_code == 2 and "has finished" in again.output

    # run again from scratch: the same winner, the same weights, so no second export
    fresh = recipes_in_process(*arguments, "--fresh")
    assert fresh.exit_code == 0, (fresh.output[-3000:], fresh.exception)
    assert "the same weights are already candidate" in fresh.stdout
    assert len(list((tmp_path / "saved_models" / "mnist").glob("*/*"))) == 1
