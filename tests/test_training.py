"""Short training runs of every recipe, export layout, determinism, divergence, and resume after kill -9."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import h5py
import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import recipes_in_process

from modelzoo import export as export_module
from modelzoo import fit, run_folder, training
from modelzoo import recipe_file as recipes
from modelzoo.registry import create_model
from modelzoo.storage import version_numbers

pytestmark = pytest.mark.slow
RECIPES = recipes.builtin_names()


def short(name, **overrides):
    """The recipe cut to one epoch on a few examples of each split."""
    return recipes.load(name, {"train.epochs": 1, "data.max_examples": 64, **overrides})


@pytest.fixture
def needs_data(request):
    """MNIST recipes need the real-data mirror; the others generate or ship their data."""

    def check(name):
        if recipes.load(name).data == "mnist":
            request.getfixturevalue("mirror")

    return check


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_trains_evaluates_and_exports(name, tmp_path, needs_data):
    needs_data(name)
    resolved = short(name)
    result = training.run(
        resolved,
        runs_root=tmp_path / "runs",
        export_dir=tmp_path / "saved_models",
        echo=lambda *_: None,
    )

    run_dir = result.run_dir
    assert run_dir.parent == tmp_path / "runs" / name
    for produced in ("recipe.json", "metrics.json", "history.csv", "curves.png"):
        assert (run_dir / produced).is_file(), produced
    assert any((run_dir / "logs").rglob("events.out.tfevents*"))
    assert not (run_dir / "backup").exists()  # removed once training finished
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 1
    assert set(metrics) >= {"train", "dev", "test", "seed", "versions", "sizes"}
    assert metrics["test"]["loss"] == pytest.approx(result.metrics["test"]["loss"])

    # a smoke run (one epoch, 64 examples) is verified and kept, but as a candidate: not published
    export = result.export_path
    assert export.parent == tmp_path / "saved_models" / resolved.export_name / "candidates"
    assert (
        version_numbers(export.parent.parent) == []
        and metrics["publish"]["decision"] == "candidate"
    )
    assert (export / "saved_model.pb").is_file() and (export / "variables").is_dir()
    card = json.loads((export / "assets.extra" / "model_card.json").read_text())
    assert card["recipe"]["name"] == name and card["metrics"]["test"] == metrics["test"]
    signature = tf.saved_model.load(str(export)).signatures["serving_default"]
    inputs = signature.structured_input_signature[1]
    assert card["signature"]["inputs"].keys() == inputs.keys()
    assert card["signature"]["outputs"].keys() == signature.structured_outputs.keys()
    assert not any(
        key.startswith(("keras_tensor", "output_"))
        for key in [*inputs, *signature.structured_outputs]
    )
    (input_spec,) = inputs.values()
    assert input_spec.shape[0] is None  # any batch size
    assert [p.name for p in export.parent.parent.iterdir()] == [
        "candidates"
    ]  # no staging folder left behind

    # model.weights.h5: the exported model's weights alone, no optimizer state
    with h5py.File(run_dir / run_folder.WEIGHTS_FILE) as weights_file:
        assert "optimizer" not in weights_file
    recorded = np.load(export / "assets.extra" / "verification.npz")
    loaded = create_model(
        resolved.model, weights=str(run_dir / run_folder.WEIGHTS_FILE), **resolved.architecture
    )
    (output_key,) = card["signature"]["outputs"]
    np.testing.assert_allclose(
        np.asarray(loaded(recorded["inputs"])), recorded[f"output:{output_key}"], atol=1e-6
    )


def test_exports_take_the_next_version_and_never_overwrite(tmp_path):
    # Short runs miss the gate: published anyway. Each seed gives other weights (the same weights
    # would be the version that already holds them).
    for expected in (1, 2, 3):
        result = training.run(
            short("linear", **{"train.seed": expected}),
            runs_root=tmp_path / "runs",
            export_dir=tmp_path / "out",
            echo=lambda *_: None,
            publish_anyway=True,
        )
        assert result.export_path.name == str(expected)
    assert version_numbers(tmp_path / "out" / "linear") == [1, 2, 3]
    (tmp_path / "out" / "linear" / "7").mkdir()
    result = training.run(
        short("linear", **{"train.seed": 4}),
        runs_root=tmp_path / "runs",
        export_dir=tmp_path / "out",
        echo=lambda *_: None,
        publish_anyway=True,
    )
    assert result.export_path.name == "8"


def test_same_seed_same_metrics(tmp_path):
    resolved = recipes.load("diabetes", {"train.epochs": 3})
    first, second = (
        training.run(
            resolved, runs_root=tmp_path / str(i), export_dir=None, echo=lambda *_: None
        ).metrics
        for i in range(2)
    )
    for split in ("train", "dev", "test"):
        assert first[split] == second[split]
    other = training.run(
        recipes.load("diabetes", {"train.epochs": 3, "train.seed": 1}),
        runs_root=tmp_path / "2",
        export_dir=None,
        echo=lambda *_: None,
    ).metrics
    assert other["test"] != first["test"]


def test_tensorboard_logs_hold_every_epoch_and_batches_build_no_summaries(tmp_path, monkeypatch):
    """The run's TensorBoard logs hold each epoch's training and dev scalars. Its callback gets no
    logs after a batch: at update_freq="epoch" their summaries would go nowhere, yet Keras' own
    callback builds one per metric per batch (~1 ms a batch)."""
    batch_logs = []
    keras_batch_end = keras.callbacks.TensorBoard.on_train_batch_end

    def recording(self, batch, logs=None):
        batch_logs.append(logs)
        return keras_batch_end(self, batch, logs)

    monkeypatch.setattr(keras.callbacks.TensorBoard, "on_train_batch_end", recording)
    training.run(
        recipes.load("linear", {"train.epochs": 3}),
        run_dir=tmp_path / "run",
        export_dir=None,
        echo=lambda *_: None,
    )
    assert len(batch_logs) == 3 * 63 and not any(batch_logs)  # 2,000 examples in batches of 32
    for split in ("train", "validation"):
        steps = {}
        for record in tf.data.TFRecordDataset(
            [str(f) for f in (tmp_path / "run" / "logs" / split).glob("events.out.tfevents.*")]
        ):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                steps.setdefault(value.tag, []).append(event.step)
        assert steps["epoch_loss"] == [0, 1, 2] and steps["epoch_mean_absolute_error"] == [0, 1, 2]


def test_a_fit_traces_its_train_and_test_steps_once(tmp_path, monkeypatch):
    """The optimizer's, loss's and metrics' variables exist before the steps are traced: a step
    that creates variables is traced twice by TensorFlow (Adam's moments in the train step, the
    metrics' totals in the test step of the dev loss measured before the fit)."""
    traces = {"train": 0, "test": 0}

    def counted(step, name):
        def wrapper(self, data):
            traces[name] += 1
            return step(self, data)

        return wrapper

    monkeypatch.setattr(keras.Sequential, "train_step", counted(keras.Model.train_step, "train"))
    monkeypatch.setattr(keras.Sequential, "test_step", counted(keras.Model.test_step, "test"))
    training.run(
        recipes.load("diabetes", {"train.epochs": 2, "train.refit": False}),
        run_dir=tmp_path / "run",
        export_dir=None,
        echo=lambda *_: None,
    )
    assert traces == {"train": 1, "test": 1}


def test_divergence_stops_with_a_clear_error_and_exports_nothing(tmp_path):
    diverging = recipes.load("linear", {"train.learning_rate": 1e3, "train.epochs": 5})
    with pytest.raises(
        fit.TrainingError,
        match=r"linear: training diverged .*Lower train.learning_rate \(now 1000.0\)",
    ):
        training.run(
            diverging,
            runs_root=tmp_path / "runs",
            export_dir=tmp_path / "out",
            echo=lambda *_: None,
        )
    assert (
        not (tmp_path / "out" / "linear").exists()
        or version_numbers(tmp_path / "out" / "linear") == []
    )


@pytest.mark.integration
def test_a_finite_but_exploding_loss_is_divergence_too(tmp_path, mirror):
    """The README's own example: at learning rate 1000 the loss stays finite but explodes; nothing is exported."""
    exploding = recipes.load(
        "mnist", {"train.learning_rate": 1000, "train.epochs": 3, "data.max_examples": 2048}
    )
    with pytest.raises(
        fit.TrainingError,
        match=r"mnist: training diverged \(the training loss reached .* in epoch 1, "
        r"more than 10x the untrained model's .*\) after 1 epoch; nothing was exported",
    ):
        training.run(
            exploding,
            runs_root=tmp_path / "runs",
            export_dir=tmp_path / "out",
            mirror=mirror,
            echo=lambda *_: None,
        )
    assert (
        not (tmp_path / "out" / "mnist").exists()
        or version_numbers(tmp_path / "out" / "mnist") == []
    )


def _history_rows(path):
    if not path.exists():
        return 0
    with path.open() as f:
        return sum(1 for _ in csv.DictReader(f))


@pytest.mark.longest
@pytest.mark.integration
def test_kill_mid_epoch_then_rerun_resumes_from_the_last_finished_epoch(tmp_path, mirror):
    command = [
        sys.executable,
        "-m",
        "modelzoo.recipes",
        "mnist",
        "--epochs",
        "3",
        "--max-examples",
        "20000",
        "--batch-size",
        "32",
        "--no-export",
        "--data-mirror",
        str(mirror),
    ]
    # That the resumed run's numbers are the uninterrupted run's, bit for bit, is
    # test_a_resumed_run_gives_the_uninterrupted_runs_numbers_bit_for_bit's (in-process, from the
    # state a kill leaves); this one proves a real SIGKILL mid-epoch leaves that state.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    run_dir = tmp_path / "killed"
    process = subprocess.Popen(
        command + ["--run-dir", str(run_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 300
    while (
        _history_rows(run_dir / "history.csv") < 1
        and process.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    time.sleep(1.0)  # into the second epoch
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    rows_at_kill = _history_rows(run_dir / "history.csv")
    assert rows_at_kill in (1, 2), "killed during an epoch after the first"
    assert not (run_dir / "metrics.json").exists()
    with (run_dir / "history.csv").open() as f:
        first_epoch = next(csv.DictReader(f))

    # The rerun in this process (a fresh one would import TensorFlow again): the CLI all the same.
    resumed = recipes_in_process(*command[3:], "--run-dir", str(run_dir))
    assert resumed.exit_code == 0, (resumed.output[-2000:], resumed.exception)
    assert "resuming mnist" in resumed.stdout
    with (run_dir / "history.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(row["epoch"]) for row in rows] == [0, 1, 2]
    assert rows[0] == first_epoch, "the finished epoch is kept, not trained again"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["resumed"] is True and metrics["epochs_run"] == 3
    assert metrics["test"]["accuracy"] > 0.9


class _Killed(BaseException):
    """Stands in for SIGKILL in-process: nothing after it runs (no except, no cleanup of ours)."""


@pytest.mark.parametrize("killed_save", [1, 2])
def test_a_kill_while_a_backup_is_written_leaves_the_previous_backup_usable(
    tmp_path, monkeypatch, killed_save
):
    """The n-th backup is cut off half-written; the rerun resumes from the one before (or from scratch)."""
    resolved = recipes.load(
        "diabetes", {"train.epochs": 4, "train.refit": False, "train.early_stopping_patience": 0}
    )
    run_dir = tmp_path / "run"
    original, calls = keras.Model.save_weights, []

    def save_then_die(model, path, *args, **kwargs):
        original(model, path, *args, **kwargs)
        calls.append(path)
        if len(calls) == killed_save:
            with open(path, "r+b") as f:
                f.truncate(os.path.getsize(path) // 2)
            raise _Killed()

    monkeypatch.setattr(keras.Model, "save_weights", save_then_die)
    with pytest.raises(_Killed):
        training.run(resolved, run_dir=run_dir, export_dir=None, echo=lambda *_: None)
    monkeypatch.setattr(keras.Model, "save_weights", original)

    lines = []
    metrics = training.run(resolved, run_dir=run_dir, export_dir=None, echo=lines.append).metrics
    assert metrics["status"] == "completed" and metrics["epochs_run"] == 4
    assert lines[0].startswith("resuming" if killed_save == 2 else "training")
    with (run_dir / "history.csv").open() as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [0, 1, 2, 3]
    assert not (run_dir / "backup").exists()


def test_a_kill_during_export_resumes_at_the_export_without_training_again(tmp_path, monkeypatch):
    resolved = recipes.load(
        "diabetes", {"train.epochs": 3, "train.refit": True, "train.early_stopping_patience": 0}
    )
    whole = training.run(
        resolved,
        run_dir=tmp_path / "whole",
        export_dir=tmp_path / "whole-out",
        echo=lambda *_: None,
        publish_anyway=True,
    )

    def die(*args, **kwargs):
        raise _Killed()

    run_dir, out = tmp_path / "run", tmp_path / "out"
    with monkeypatch.context() as patched:
        patched.setattr(export_module, "publish", die)
        with pytest.raises(_Killed):
            training.run(
                resolved, run_dir=run_dir, export_dir=out, echo=lambda *_: None, publish_anyway=True
            )
    histories = {
        name: (run_dir / name).read_text() for name in ("history.csv", "history-refit.csv")
    }

    lines = []
    result = training.run(
        resolved, run_dir=run_dir, export_dir=out, echo=lines.append, publish_anyway=True
    )
    assert lines[0].startswith("resuming diabetes")
    assert result.metrics["train_seconds_this_process"] == 0  # neither fit ran again
    assert {name: (run_dir / name).read_text() for name in histories} == histories
    assert result.metrics["test"] == whole.metrics["test"]
    assert result.export_path == out / "diabetes" / "1"
    assert not (run_dir / "backup").exists() and not (run_dir / "backup-refit").exists()


class _StopAfterEpoch(keras.callbacks.Callback):
    """Raises at the end of an epoch, before that epoch's backup: the run stops as a kill would leave it."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise _Killed()


_EARLY_STOPPING = {
    "train.epochs": 40,
    "train.refit": False,
    "train.early_stopping_patience": 3,
    "train.learning_rate": 0.03,
}


@pytest.mark.parametrize(
    "name, overrides, killed_in",
    [
        (
            "diabetes",
            {"train.epochs": 8, "train.refit": False, "train.early_stopping_patience": 0},
            1,
        ),  # dropout
        (
            "mnist",
            {"train.epochs": 3, "data.max_examples": 2000},
            1,
        ),  # dropout, augmentation, cosine schedule
        # early stopping: its patience count, best score and best weights go on where they were
        *[("diabetes", _EARLY_STOPPING, epoch) for epoch in (2, 4)],
        # the moving average of the weights goes on from where it was, and early stopping keeps it
        (
            "diabetes",
            {
                "train.epochs": 8,
                "train.refit": False,
                "train.early_stopping_patience": 0,
                "train.ema_momentum": 0.9,
            },
            2,
        ),
        ("diabetes", {**_EARLY_STOPPING, "train.ema_momentum": 0.9}, 3),
    ],
)
def test_a_resumed_run_gives_the_uninterrupted_runs_numbers_bit_for_bit(
    tmp_path, name, overrides, killed_in, needs_data
):
    needs_data(name)
    resolved = recipes.load(name, overrides)
    whole = training.run(
        resolved, run_dir=tmp_path / "whole", export_dir=None, echo=lambda *_: None
    ).metrics
    if killed_in >= whole["epochs_run"]:
        pytest.fail(
            f"early stopping ended the run after {whole['epochs_run']} epochs, before epoch {killed_in + 1}"
        )
    with pytest.raises(_Killed):
        training.run(
            resolved,
            run_dir=tmp_path / "run",
            export_dir=None,
            echo=lambda *_: None,
            callbacks=[_StopAfterEpoch(killed_in)],
        )
    resumed = training.run(
        resolved, run_dir=tmp_path / "run", export_dir=None, echo=lambda *_: None
    ).metrics
    assert resumed["resumed"] is True
    assert (tmp_path / "run" / "history.csv").read_text() == (
        tmp_path / "whole" / "history.csv"
    ).read_text()
    assert {split: resumed[split] for split in ("train", "dev", "test")} == {
        split: whole[split] for split in ("train", "dev", "test")
    }


def test_a_kill_after_early_stopping_ended_the_fit_resumes_with_its_best_weights(
    tmp_path, monkeypatch
):
    """Killed between early stopping's verdict (saved with the last epoch) and the fit's final save."""
    from modelzoo import checkpoint

    resolved = recipes.load("diabetes", _EARLY_STOPPING)
    whole = training.run(
        resolved, run_dir=tmp_path / "whole", export_dir=None, echo=lambda *_: None
    ).metrics
    assert whole["epochs_run"] < 40  # early stopping ended it
    original = checkpoint.Backup.save

    def die_at_the_final_save(self, model, epoch, *, complete=False, stopping=None):
        if complete:
            raise _Killed()
        original(self, model, epoch, complete=complete, stopping=stopping)

    with monkeypatch.context() as patched:
        patched.setattr(checkpoint.Backup, "save", die_at_the_final_save)
        with pytest.raises(_Killed):
            training.run(resolved, run_dir=tmp_path / "run", export_dir=None, echo=lambda *_: None)
    resumed = training.run(
        resolved, run_dir=tmp_path / "run", export_dir=None, echo=lambda *_: None
    ).metrics
    assert resumed["resumed"] is True and resumed["train_seconds_this_process"] == 0
    assert (tmp_path / "run" / "history.csv").read_text() == (
        tmp_path / "whole" / "history.csv"
    ).read_text()
    assert {split: resumed[split] for split in ("train", "dev", "test")} == {
        split: whole[split] for split in ("train", "dev", "test")
    }


class _StopInRefit(Exception):
    pass


class _CrashInRefit(keras.callbacks.Callback):
    """Stops the run's second fit (the refit) at the end of its second epoch, before that epoch's backup."""

    def __init__(self):
        super().__init__()
        self.fits = 0

    def on_train_begin(self, logs=None):
        self.fits += 1

    def on_epoch_end(self, epoch, logs=None):
        if self.fits == 2 and epoch == 1:
            raise _StopInRefit()


def test_refit_trains_a_fresh_model_on_train_and_dev_for_the_epochs_dev_chose(tmp_path):
    overrides = {
        "train.epochs": 12,
        "train.early_stopping_patience": 3,
        "train.learning_rate": 0.03,
    }
    plain = training.run(
        recipes.load("diabetes", {**overrides, "train.refit": False}),
        runs_root=tmp_path / "plain",
        export_dir=None,
        echo=lambda *_: None,
    ).metrics
    result = training.run(
        recipes.load("diabetes", {**overrides, "train.refit": True}),
        runs_root=tmp_path / "refit",
        export_dir=tmp_path / "out",
        echo=lambda *_: None,
    )
    metrics, run_dir = result.metrics, result.run_dir

    with (run_dir / "history.csv").open() as f:
        dev_losses = [float(row["val_loss"]) for row in csv.DictReader(f)]
    chosen = dev_losses.index(min(dev_losses)) + 1
    assert metrics["epochs_run"] == len(dev_losses) == plain["epochs_run"]
    assert metrics["refit"]["epochs"] == chosen == _history_rows(run_dir / "history-refit.csv")
    assert (
        metrics["refit"]["examples"] == metrics["sizes"]["train"] + metrics["sizes"]["dev"] == 615
    )
    # train and dev are the first fit's scores, the same as without refit; test is the refit model's.
    assert metrics["train"] == plain["train"] and metrics["dev"] == plain["dev"]
    assert metrics["test"] != plain["test"]
    assert json.loads((run_dir / "selection.json").read_text())["dev"] == metrics["dev"]
    assert (run_dir / "curves-refit.png").is_file() and not (run_dir / "backup-refit").exists()
    card = json.loads((result.export_path / "assets.extra" / "model_card.json").read_text())
    assert (
        card["metrics"]["refit"] == metrics["refit"] and card["metrics"]["test"] == metrics["test"]
    )


def test_a_run_stopped_in_its_refit_resumes_the_refit_not_the_first_fit(tmp_path):
    resolved = recipes.load(
        "diabetes", {"train.epochs": 6, "train.early_stopping_patience": 0, "train.refit": True}
    )
    whole = training.run(
        resolved, run_dir=tmp_path / "whole", export_dir=None, echo=lambda *_: None
    ).metrics

    run_dir = tmp_path / "stopped"
    with pytest.raises(_StopInRefit):
        training.run(
            resolved,
            run_dir=run_dir,
            export_dir=None,
            echo=lambda *_: None,
            callbacks=[_CrashInRefit()],
        )
    assert (run_dir / "selection.json").is_file() and (run_dir / "backup-refit").is_dir()
    assert _history_rows(run_dir / "history-refit.csv") == 1  # the second epoch never finished
    first_fit = (run_dir / "history.csv").read_text()

    lines = []
    resumed = training.run(resolved, run_dir=run_dir, export_dir=None, echo=lines.append).metrics
    assert lines[0].startswith("resuming diabetes") and resumed["resumed"] is True
    assert (run_dir / "history.csv").read_text() == first_fit  # the first fit did not run again
    with (run_dir / "history-refit.csv").open() as f:
        assert [int(row["epoch"]) for row in csv.DictReader(f)] == [0, 1, 2, 3, 4, 5]
    assert resumed["test"]["accuracy"] == pytest.approx(whole["test"]["accuracy"], abs=0.003)


def test_xor_needs_the_hidden_layer(tmp_path):
    """Same recipe, same training: two layers fit XOR, one layer (logistic regression) cannot."""
    two_layers = training.run(
        recipes.load("xor"), runs_root=tmp_path, export_dir=None, echo=lambda *_: None
    )
    one_layer = recipes.load(
        "xor", {"model.name": "sigmoid_binary_classifier", "model.input_dim": 2}
    )
    one = training.run(one_layer, runs_root=tmp_path, export_dir=None, echo=lambda *_: None)
    assert two_layers.metrics["test"]["accuracy"] == 1.0
    # A line classifies at most 3 of the 4 corners correctly.
    assert one.metrics["test"]["accuracy"] <= 0.75


KILLS_PER_EPISODE = 5  # two episodes make the ten kills


@pytest.mark.longest
def test_ten_kill_9s_at_random_instants_then_the_run_completes_as_if_uninterrupted(tmp_path):
    """SIGKILL during start-up, fit, backup writes, evaluation and export, again and again: every
    rerun picks up where the last complete state was, and the end result is the uninterrupted one's."""
    import random

    def command(name):
        return [
            sys.executable,
            "-m",
            "modelzoo.recipes",
            "linear",
            "--run-dir",
            str(tmp_path / name),
            "--export-dir",
            str(tmp_path / f"{name}-out"),
        ]

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}

    def start_and_wait_for_the_lock(name):
        """Start a run; wait until it holds its folder (start-up done), to kill it in the work that follows."""
        process = subprocess.Popen(
            command(name), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
        )
        deadline = time.monotonic() + 120
        while (
            run_folder.holder(tmp_path / name) != process.pid
            and process.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.01)
        return process

    whole = start_and_wait_for_the_lock("whole")
    start = time.monotonic()
    assert whole.wait(timeout=300) == 0, whole.stderr.read()[-2000:]
    work = (
        time.monotonic() - start
    )  # from holding the folder to the end: data, fit, evaluation, export
    expected = json.loads((tmp_path / "whole" / "metrics.json").read_text())

    rng, kills, episode = random.Random(15), 0, 0
    while (
        kills < 10
    ):  # episodes: kill at random instants until a run gets to the end, then check it
        episode += 1
        name = f"killed-{episode}"
        attempts = 0
        while True:
            process = start_and_wait_for_the_lock(name)
            attempts += 1
            # After a few kills in an episode the rerun is let finish: what is left of a resumed
            # run (its export and the verification in a fresh process) can take longer than every
            # window on a loaded machine, and a clean-clone CI once killed such reruns for 10 min.
            window = rng.uniform(0, 0.7 * work) if attempts <= KILLS_PER_EPISODE else 300
            try:
                process.wait(timeout=window)  # most land: a rerun still starts up and exports
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                kills += 1
                if not (tmp_path / name / "metrics.json").exists():
                    continue
                ended_by_kill = (
                    True  # in its last instants: metrics.json written, the run is finished
                )
            else:
                assert process.returncode == 0, (
                    f"episode {episode}, after {kills} kills: {process.stderr.read()[-2000:]}"
                )
                ended_by_kill = False
            break

        metrics = json.loads((tmp_path / name / "metrics.json").read_text())
        assert metrics["status"] == "completed" and metrics["epochs_run"] == expected["epochs_run"]
        assert (
            metrics["weights"] == expected["weights"] and metrics["test"] == expected["test"]
        )  # bit for bit
        with (tmp_path / name / "history.csv").open() as f:
            assert [int(row["epoch"]) for row in csv.DictReader(f)] == list(
                range(expected["epochs_run"])
            )
        out = tmp_path / f"{name}-out" / "linear"
        assert version_numbers(out) == [1] and not list(out.glob(".staging-*"))
        assert ended_by_kill or not (tmp_path / name / "backup").exists()
    print(f"{kills} kills in {episode} episodes")


def test_a_mixed_precision_run_tests_and_exports_a_float32_model(tmp_path):
    """train.precision = "mixed_bfloat16" trains in bfloat16; the SavedModel has a float32 run's
    interface, passed its verification, and the test score recorded is the exported model's."""
    from modelzoo import data, final_test, recipe_model

    def signature_of(export):
        signature = tf.saved_model.load(str(export)).signatures["serving_default"]
        return {
            "inputs": {
                key: (spec.dtype, tuple(spec.shape))
                for key, spec in signature.structured_input_signature[1].items()
            },
            "outputs": {
                key: (spec.dtype, tuple(spec.shape))
                for key, spec in signature.structured_outputs.items()
            },
        }

    results = {
        precision: training.run(
            short("diabetes", **{"train.precision": precision}),
            runs_root=tmp_path / precision / "runs",
            export_dir=tmp_path / precision / "saved_models",
            echo=lambda *_: None,
        )
        for precision in ("float32", "mixed_bfloat16")
    }
    mixed = results["mixed_bfloat16"]
    resolved = short("diabetes", **{"train.precision": "mixed_bfloat16"})
    assert json.loads((mixed.run_dir / "recipe.json").read_text())["train"]["precision"] == (
        "mixed_bfloat16"
    )
    metrics = json.loads((mixed.run_dir / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["publish"]["decision"] == "candidate"
    assert {p: r.metrics["precision"] for p, r in results.items()} == {p: p for p in results}
    export = mixed.export_path
    assert (export / "saved_model.pb").is_file()
    assert (export / "assets.extra" / "verification.npz").is_file()  # written once verified

    assert signature_of(export) == signature_of(results["float32"].export_path)
    ((output_dtype, _),) = signature_of(export)["outputs"].values()
    assert output_dtype == tf.float32

    # the weights file rebuilds, in float32, the exported model and the test score recorded
    rebuilt = create_model(
        resolved.model,
        weights=str(mixed.run_dir / run_folder.WEIGHTS_FILE),
        **resolved.architecture,
    )
    recipe_model.compile_model(rebuilt, resolved, metrics["sizes"]["train"])
    splits = data.load(resolved.data, batch_size=16, max_examples=resolved.max_examples)
    scores, predictions = final_test.evaluate_test(rebuilt, splits.test, splits.info.sizes["test"])
    assert scores["loss"] == pytest.approx(metrics["test"]["loss"], rel=1e-6)
    assert scores["accuracy"] == metrics["test"]["accuracy"]
    served = tf.saved_model.load(str(export)).signatures["serving_default"]
    (input_key,) = signature_of(export)["inputs"]
    (output,) = served(**{input_key: tf.constant(predictions.inputs)}).values()
    np.testing.assert_allclose(output.numpy(), predictions.outputs, atol=1e-6)
