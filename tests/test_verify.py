"""The servability check: passes modelzoo's exports, catches what TF Serving would reject."""

import numpy as np
import pytest
import tensorflow as tf
from click.testing import CliRunner

import modelzoo
from modelzoo import export, verify
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
    assert {c.name for c in checks} >= {"tag set", "method", "batch dimension", "signature keys", "denylisted ops",
                                         "session load and run", "output prediction", "version folder"}
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "linear")])
    assert result.exit_code == 0 and result.output.rstrip().endswith("/linear/1 is servable")


def test_tf_saved_model_save_of_a_keras_3_model_fails_the_session_load(tmp_path):
    """Loads with tf.saved_model.load, yet TF Serving's loader cannot find its variables."""
    model = modelzoo.create_model("linear_regression", seed=0)
    version = tmp_path / "linear" / "1"
    tf.saved_model.save(model, str(version))
    assert tf.saved_model.load(str(version)).signatures["serving_default"] is not None
    verify.write_samples(version, samples_for(model), {"output_0": np.asarray(model(samples_for(model)))})
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
    verify.write_samples(tmp_path / "1", samples_for(model), {"output_0": np.asarray(model(samples_for(model)))})
    problems = failed(verify.verify(tmp_path / "1"))
    assert set(problems) == {"signature keys"} and "output_0" in problems["signature keys"]


def test_wrong_outputs_and_non_integer_versions_are_caught(tmp_path):
    model = modelzoo.create_model("linear_regression", seed=0)
    version = export.publish(model, tmp_path, "linear", {}, samples_for(model))
    verify.write_samples(version, samples_for(model), {"prediction": np.asarray(model(samples_for(model))) + 1e-3})
    assert set(failed(verify.verify(version))) == {"output prediction"}
    renamed = version.rename(tmp_path / "linear" / "latest")
    assert set(failed(verify.verify(renamed))) == {"output prediction", "version folder"}


def test_a_model_that_fails_is_not_published(tmp_path, monkeypatch):
    model = modelzoo.create_model("linear_regression", seed=0)
    monkeypatch.setattr(verify, "TOLERANCE", -1.0)  # nothing can match
    with pytest.raises(verify.VerifyError):
        export.publish(model, tmp_path, "linear", {}, samples_for(model))
    assert list((tmp_path / "linear").iterdir()) == []
