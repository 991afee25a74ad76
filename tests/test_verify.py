"""The servability check: passes modelzoo's exports, catches what TF Serving would reject."""

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

import modelzoo
from modelzoo import export, tfserving, verify
from modelzoo.cli import cli

pytestmark = pytest.mark.slow


def samples_for(model):
    spec = model.inputs[0]
    return np.random.default_rng(0).normal(size=(4, *spec.shape[1:])).astype(spec.dtype)


def failed(checks):
    return {c.name: c.detail for c in checks if not c.ok}


def test_modelzoo_export_passes_every_check(tmp_path):
    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {"name": "linear"}, samples_for(model))
    checks = verify.verify(version)
    assert not failed(checks)
    assert {c.name for c in checks} >= {
        "tag set",
        "method",
        "batch dimension",
        "signature keys",
        "denylisted ops",
        "session load and run",
        "output prediction",
        "version folder",
        "warmup replay",
    }
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "linear")])
    assert result.exit_code == 0 and result.output.rstrip().endswith("/linear/1 is servable")


def test_tf_saved_model_save_of_a_keras_3_model_fails_the_session_load(tmp_path):
    """Loads with tf.saved_model.load, yet TF Serving's loader cannot find its variables."""
    model = modelzoo.create_model("linear_regression", seed=0)
    version = tmp_path / "linear" / "1"
    tf.saved_model.save(model, str(version))
    assert tf.saved_model.load(str(version)).signatures["serving_default"] is not None
    verify.write_samples(
        version, samples_for(model), {"output_0": np.asarray(model(samples_for(model)))}
    )
    problems = failed(verify.verify(version))
    assert "Could not find variable" in problems["session load and run"]
    assert "generated names ['inputs', 'output_0']" in problems["signature keys"]
    with pytest.raises(verify.VerifyError, match="is not servable"):
        verify.require_servable(version)
    result = CliRunner().invoke(cli, ["verify", str(version)])
    assert result.exit_code == 1 and "FAIL session load and run" in result.output


def test_keras_default_export_has_generated_output_key(tmp_path):
    model = modelzoo.create_model("small_cnn", seed=0)
    model.export(str(tmp_path / "1"), verbose=False)
    verify.write_samples(
        tmp_path / "1", samples_for(model), {"output_0": np.asarray(model(samples_for(model)))}
    )
    tfserving.write_warmup_requests(tmp_path / "1", "cnn", "image", samples_for(model))
    problems = failed(verify.verify(tmp_path / "1"))
    assert set(problems) == {"signature keys"} and "output_0" in problems["signature keys"]


def test_wrong_outputs_and_non_integer_versions_are_caught(tmp_path):
    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {}, samples_for(model))
    verify.write_samples(
        version, samples_for(model), {"prediction": np.asarray(model(samples_for(model))) + 1e-3}
    )
    assert set(failed(verify.verify(version))) == {"output prediction"}
    renamed = version.rename(tmp_path / "linear" / "latest")
    assert set(failed(verify.verify(renamed))) == {"output prediction", "version folder"}


def test_a_model_that_fails_is_not_published(tmp_path, monkeypatch):
    model = modelzoo.create_model("linear_regression", seed=0)
    monkeypatch.setattr(verify, "TOLERANCE", -1.0)  # nothing can match
    with pytest.raises(verify.VerifyError):
        export.publish(model, tmp_path, "linear", {}, samples_for(model))
    assert not (tmp_path / "linear").exists()  # no version, no staging, no empty folder left


def test_warmup_records_are_prediction_logs_of_real_samples(tmp_path):
    from tensorflow_serving.apis import prediction_log_pb2

    model = modelzoo.create_model("small_cnn", seed=0)
    samples = samples_for(model)
    version = export.publish(model, tmp_path, "cnn", {}, samples)
    records = list(
        tf.data.TFRecordDataset(
            str(version / "assets.extra" / tfserving.WARMUP_FILE)
        ).as_numpy_iterator()
    )
    assert len(records) == len(samples)
    log = prediction_log_pb2.PredictionLog.FromString(records[0])
    assert log.predict_log.request.model_spec.signature_name == "serving_default"
    np.testing.assert_array_equal(
        tf.make_ndarray(log.predict_log.request.inputs["image"]), samples[:1]
    )
    replay = {c.name: c for c in verify.verify(version)}["warmup replay"]
    assert replay.ok and "replayed 4 warmup requests" in replay.detail


def test_models_config_parses_as_model_server_config(tmp_path):
    from google.protobuf import text_format
    from tensorflow_serving.config import model_server_config_pb2

    for name in ("linear", "xor"):
        model = modelzoo.create_model(
            "linear_regression" if name == "linear" else "two_layer_perceptron", seed=0
        )
        export.publish(model, tmp_path / "saved_models", name, {}, samples_for(model))
    (tmp_path / "saved_models" / "empty").mkdir()  # no version: not listed
    result = CliRunner().invoke(
        cli, ["serving-config", str(tmp_path / "saved_models"), "--keep-versions", "2"]
    )
    assert result.exit_code == 0, result.output
    config = text_format.Parse(result.output, model_server_config_pb2.ModelServerConfig())
    entries = {c.name: c for c in config.model_config_list.config}
    assert sorted(entries) == ["linear", "xor"]
    for name, entry in entries.items():
        assert entry.base_path == str((tmp_path / "saved_models" / name).resolve())
        assert (
            entry.model_platform == "tensorflow"
            and entry.model_version_policy.latest.num_versions == 2
        )
    result = CliRunner().invoke(
        cli, ["serving-config", str(tmp_path / "saved_models"), "--serving-root", "/models/"]
    )
    config = text_format.Parse(result.output, model_server_config_pb2.ModelServerConfig())
    assert [c.base_path for c in config.model_config_list.config] == [
        "/models/linear",
        "/models/xor",
    ]
    result = CliRunner().invoke(cli, ["serving-config", str(tmp_path / "saved_models" / "empty")])
    assert result.exit_code == 1 and "holds no exported model" in result.output


def _children(pid):
    """The PIDs whose parent is `pid` (from /proc)."""
    import pathlib

    found = []
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_verify_killed_while_its_child_runs_leaves_no_temporary_files(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(
        model, tmp_path / "out", "linear", {"name": "linear"}, samples_for(model)
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    parent = subprocess.Popen(
        [sys.executable, "-m", "modelzoo.cli", "verify", str(version)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    children = []
    while not children and time.monotonic() < deadline and parent.poll() is None:
        children = _children(parent.pid)
        time.sleep(0.02)
    assert children, "the verify child never started"
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    child = int(children[0])
    while time.monotonic() < deadline:  # the orphaned child runs on to its end
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    assert list(temp.iterdir()) == []


def test_publish_removes_the_staging_folders_of_dead_exporters_only(tmp_path):
    import os
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()
    model_dir = tmp_path / "linear"
    alive = subprocess.Popen(["sleep", "60"])
    host = export._host()
    stale = model_dir / f".staging-{host}-{dead.pid}-abc"
    mine_but_not_made_here = (
        model_dir / f".staging-{host}-{os.getpid()}-def"
    )  # a restarted container's PID
    live = model_dir / f".staging-{host}-{alive.pid}-xyz"
    other_host = (
        model_dir / f".staging-elsewhere-{dead.pid}-uvw"
    )  # a shared export dir: not ours to judge
    for folder in (stale, mine_but_not_made_here, live, other_host):
        (folder / "variables").mkdir(parents=True)
    model = modelzoo.create_model("linear_regression", seed=0)
    try:
        version = export.publish(model, tmp_path, "linear", {"name": "linear"}, samples_for(model))
    finally:
        alive.kill()
    assert sorted(p.name for p in model_dir.iterdir()) == sorted(["1", live.name, other_host.name])
    assert version.name == "1"


@pytest.mark.parametrize("loader", ["c_api", "python"])
def test_each_session_loader_passes_an_export_and_fails_tf_saved_model_save(
    tmp_path, monkeypatch, loader
):
    """The C API (where the wheel ships it) and the v1 session loader (elsewhere) agree."""
    monkeypatch.setattr(verify, "LOADER", loader)
    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {}, samples_for(model))
    passed = {c.name: c for c in verify.verify(version)}
    assert all(c.ok for c in passed.values()), failed(passed.values())
    how = "TensorFlow's C API" if loader == "c_api" else "the v1 session loader"
    assert how in passed["session load and run"].detail
    saved = tmp_path / "saved" / "1"
    tf.saved_model.save(model, str(saved))
    verify.write_samples(
        saved, samples_for(model), {"output_0": np.asarray(model(samples_for(model)))}
    )
    assert "Could not find variable" in failed(verify.verify(saved))["session load and run"]


def test_a_warmup_request_for_an_input_the_signature_lacks_fails_the_replay(tmp_path):
    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {}, samples_for(model))
    tfserving.write_warmup_requests(version, "linear", "image", samples_for(model))
    problems = failed(verify.verify(version))
    assert set(problems) == {"warmup replay"} and "inputs ['image']" in problems["warmup replay"]


def test_what_tf_serving_would_refuse_in_the_warmup_is_a_failed_check_not_a_crash(tmp_path):
    """A damaged warmup file, a request in the wrong dtype, a signature this check cannot feed:
    each a failed check with its reason; samples in float64 are converted as a REST client's are."""
    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {}, samples_for(model).astype("float64"))
    warmup = version / "assets.extra" / tfserving.WARMUP_FILE
    warmup.write_bytes(b"not a TFRecord")
    problems = failed(verify.verify(version))
    assert set(problems) == {"warmup replay"} and "does not read" in problems["warmup replay"]
    tfserving.write_warmup_requests(version, "linear", "features", samples_for(model) * 1.0)
    tfserving.write_warmup_requests(
        version, "linear", "features", samples_for(model).astype("float64")
    )
    problems = failed(verify.verify(version))
    assert set(problems) == {"warmup replay"}
    assert "features is float64, serving_default wants float32" in problems["warmup replay"]

    class TwoInputs(tf.Module):
        @tf.function(
            input_signature=[tf.TensorSpec([None, 1], tf.float32, name=n) for n in ("a", "b")]
        )
        def serve(self, a, b):
            return {"total": a + b}

    module = TwoInputs()
    two = tmp_path / "two" / "1"
    tf.saved_model.save(module, str(two), signatures={"serving_default": module.serve})
    verify.write_samples(two, samples_for(model), {"total": samples_for(model)})
    problem = failed(verify.verify(two))["session load and run"]
    assert "inputs ['a', 'b']" in problem and "one numeric input" in problem


@pytest.mark.parametrize("stderr", [b"", b"F0000 check failed: something in C++\n"])
def test_a_child_killed_by_a_signal_is_named_as_such(tmp_path, monkeypatch, stderr):
    """Out of memory or a crash in C++ kills the fresh process: the check says so, not "no output"."""
    import subprocess

    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {"name": "linear"}, samples_for(model))
    monkeypatch.setattr(
        verify.subprocess,
        "run",
        lambda args, **_: subprocess.CompletedProcess(args, -9, b"", stderr),
    )
    detail = failed(verify.verify(version))["session load and run"]
    assert "the fresh process was killed by SIGKILL" in detail
    assert ("check failed: something in C++" in detail) == bool(stderr)


def test_a_warmup_request_naming_a_missing_signature_fails_as_tf_serving_fails_the_load(tmp_path):
    """TF Serving runs each warmup request through the signature it names (none: serving_default)
    and fails the load on 'Serving signature key "..." not found.'; so do verify and the stand-in."""
    from modelzoo.serving import ModelRepository

    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {}, samples_for(model))
    tfserving.write_warmup_requests(version, "linear", "features", samples_for(model), "")
    assert not failed(verify.verify(version)), "an empty name means serving_default"
    assert {r.signature for r in tfserving.read_warmup_requests(version)} == {"serving_default"}

    tfserving.write_warmup_requests(version, "linear", "features", samples_for(model), "predict")
    problem = failed(verify.verify(version))["warmup replay"]
    assert 'Serving signature key "predict" not found.' in problem
    repository = ModelRepository(tmp_path)
    repository.refresh(settle=False)
    assert repository.models() == {}, "the stand-in server refuses the version too"
    repository.stop()
