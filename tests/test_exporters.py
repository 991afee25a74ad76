"""The export-format seam: `publish` runs every registered exporter into the staged version folder."""

import json

import pytest

from modelzoo import export, exporters
from modelzoo.errors import ModelzooError


class Notes:
    """A throwaway export format: one text file, checked to be there; records its calls."""

    def __init__(self, fail_check=False):
        self.calls = []
        self.fail_check = fail_check

    def write(self, model, folder, *, name, samples):
        self.calls.append(("write", folder.name))
        (folder / "notes.txt").write_text(f"{name}: {len(samples)} samples\n")

    def check(self, folder):
        self.calls.append(("check", folder.name))
        if self.fail_check or not (folder / "notes.txt").is_file():
            raise ModelzooError(f"{folder} has no good notes.txt")


@pytest.fixture
def notes():
    """The throwaway format registered beside the built-in ones, removed afterwards."""
    format_ = Notes()
    exporters.register_exporter(exporters.Exporter("notes", format_.write, format_.check))
    yield format_
    exporters.unregister_exporter("notes")


@pytest.fixture
def only_notes(monkeypatch):
    """The throwaway format as the only one (no TensorFlow, no model needed)."""
    monkeypatch.setattr(exporters, "EXPORTERS", {})
    format_ = Notes()
    exporters.register_exporter(exporters.Exporter("notes", format_.write, format_.check))
    return format_


def test_the_saved_model_is_the_registered_format():
    assert list(exporters.EXPORTERS) == ["saved_model"]
    with pytest.raises(ValueError, match="already registered"):
        exporters.register_exporter(exporters.EXPORTERS["saved_model"])


def test_publish_runs_a_registered_exporter_into_the_version_folder(tmp_path, only_notes):
    version = export.publish(object(), tmp_path, "m", {"name": "m"}, samples=[1, 2, 3])
    assert version == tmp_path / "m" / "1"
    assert sorted(str(p.relative_to(version)) for p in version.rglob("*")) == [
        "assets.extra",
        "assets.extra/model_card.json",
        "notes.txt",
    ]
    assert (version / "notes.txt").read_text() == "m: 3 samples\n"
    assert json.loads((version / "assets.extra" / "model_card.json").read_text()) == {"name": "m"}
    (write, staged), (check, checked) = only_notes.calls
    assert (write, check) == ("write", "check") and staged == checked
    assert staged.startswith(export.STAGING_PREFIX)  # written before the rename, never in place


def test_an_exporter_whose_check_fails_publishes_nothing(tmp_path, only_notes):
    only_notes.fail_check = True
    with pytest.raises(ModelzooError, match="no good notes.txt"):
        export.publish(object(), tmp_path, "m", {"name": "m"}, samples=[1])
    assert list((tmp_path / "m").iterdir()) == []  # no version, no staging folder left


@pytest.mark.slow
def test_a_registered_exporter_writes_beside_the_saved_model(tmp_path, notes):
    import numpy as np

    import modelzoo

    model = modelzoo.create_model("linear_regression", seed=0)
    samples = np.zeros((2, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
    version = export.publish(model, tmp_path, "linear", {"name": "linear"}, samples)
    names = {p.name for p in version.iterdir()}
    assert {"saved_model.pb", "variables", "assets.extra", "notes.txt"} <= names
    assert (version / "notes.txt").read_text() == "linear: 2 samples\n"
    assert [call for call, _ in notes.calls] == ["write", "check"]
