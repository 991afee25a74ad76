"""The export-format seam: `publish` writes the chosen formats, checks them all, then renames.

TF Serving's SavedModel goes in the version folder; every other format beside it, in
`<model>/formats/<version>/` (`storage.formats_folder`), never inside TF Serving's folder.
"""

import json

import pytest

from modelzoo import export, exporters, storage
from modelzoo.errors import ModelzooError, UsageError


class Notes:
    """A throwaway export format: one text file, checked to be there; records its calls."""

    def __init__(self, fail_check=False):
        self.calls = []
        self.fail_check = fail_check

    def write(self, model, folder, context):
        self.calls.append(("write", folder))
        (folder / "notes.txt").write_text(f"{context.name}: {len(context.samples)} samples\n")

    def check(self, folder, context):
        self.calls.append(("check", folder))
        if self.fail_check or not (folder / "notes.txt").is_file():
            raise ModelzooError(f"{folder} has no good notes.txt")
        return {"lines": 1}


@pytest.fixture
def notes():
    """The throwaway format registered beside the built-in ones, removed afterwards."""
    format_ = Notes()
    exporters.register_exporter(
        exporters.Exporter("notes", format_.write, format_.check, file="notes.txt")
    )
    yield format_
    exporters.unregister_exporter("notes")


@pytest.fixture
def only_notes(monkeypatch):
    """A throwaway SavedModel stand-in and the notes format as the only ones (no TensorFlow)."""
    monkeypatch.setattr(exporters, "EXPORTERS", {})

    def write_saved_model(model, folder, context):
        (folder / storage.SAVED_MODEL_FILE).write_text("stand-in")

    exporters.register_exporter(
        exporters.Exporter(exporters.SAVED_MODEL, write_saved_model, lambda f, c: {})
    )
    format_ = Notes()
    exporters.register_exporter(
        exporters.Exporter("notes", format_.write, format_.check, file="notes.txt")
    )
    return format_


def tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_the_formats_are_registered_in_the_order_they_run():
    assert list(exporters.EXPORTERS) == ["savedmodel", "onnx", "litert", "litert-int8"]
    with pytest.raises(ValueError, match="already registered"):
        exporters.register_exporter(exporters.EXPORTERS["savedmodel"])


def test_formats_are_parsed_in_registration_order_with_the_saved_model_always():
    assert exporters.parse_formats("litert,onnx") == ("savedmodel", "onnx", "litert")
    assert exporters.parse_formats(["savedmodel"]) == ("savedmodel",)
    assert exporters.parse_formats("onnx, litert-int8") == ("savedmodel", "onnx", "litert-int8")
    with pytest.raises(UsageError, match=r"--format: no export format 'onx'.*did you mean 'onnx'"):
        exporters.parse_formats("savedmodel,onx")


def test_publish_writes_other_formats_beside_the_version_never_inside(tmp_path, only_notes):
    version = export.publish(
        object(), tmp_path, "m", {"name": "m"}, samples=[1, 2, 3], formats=("savedmodel", "notes")
    )
    assert version == tmp_path / "m" / "1"
    assert tree(version) == ["assets.extra", "assets.extra/model_card.json", "saved_model.pb"]
    assert tree(tmp_path / "m" / "formats") == ["1", "1/notes.txt"]
    assert (tmp_path / "m" / "formats" / "1" / "notes.txt").read_text() == "m: 3 samples\n"
    card = json.loads((version / "assets.extra" / "model_card.json").read_text())
    assert card["formats"]["notes"] == {"file": "notes.txt", "bytes": 13, "lines": 1}
    (write, staged), (check, checked) = only_notes.calls
    assert (write, check) == ("write", "check") and staged == checked
    assert staged.name.startswith(
        export.STAGING_PREFIX
    )  # written before the rename, never in place
    assert staged.parent == tmp_path / "m" / "formats"
    assert exporters.formats_present(version) == ["savedmodel", "notes"]


def test_a_format_the_card_lists_but_whose_file_is_gone_is_said_to_be_missing(tmp_path, only_notes):
    version = export.publish(object(), tmp_path, "m", {}, [1], formats=("savedmodel", "notes"))
    (storage.formats_folder(version) / "notes.txt").unlink()  # e.g. a kill between the renames
    (line,) = exporters.describe_formats(version)
    assert line.startswith("notes: ") and "is missing (the card lists it)" in line
    assert exporters.formats_present(version) == ["savedmodel"]


def test_a_format_not_asked_for_is_not_written(tmp_path, only_notes):
    version = export.publish(object(), tmp_path, "m", {}, samples=[1])
    assert only_notes.calls == [] and not (tmp_path / "m" / "formats").exists()
    assert json.loads(storage.card_path(version).read_text())["formats"] == {"savedmodel": {}}


def test_an_exporter_whose_check_fails_publishes_nothing(tmp_path, only_notes):
    only_notes.fail_check = True
    with pytest.raises(ModelzooError, match="no good notes.txt"):
        export.publish(object(), tmp_path, "m", {}, samples=[1], formats=("savedmodel", "notes"))
    assert not (tmp_path / "m").exists()  # no version, no staging folder, no empty folder left


def test_a_version_number_with_leftover_formats_is_not_reused(tmp_path, only_notes):
    (tmp_path / "m" / "formats" / "1").mkdir(parents=True)  # its SavedModel was removed by hand
    version = export.publish(object(), tmp_path, "m", {}, [1], formats=("savedmodel", "notes"))
    assert version.name == "2" and (tmp_path / "m" / "formats" / "2" / "notes.txt").is_file()


def test_a_candidate_keeps_its_formats_and_promotion_moves_them(tmp_path, only_notes):
    candidate = export.publish(
        object(), tmp_path, "m", {}, [1], formats=("savedmodel", "notes"), candidate=True
    )
    assert candidate.parent == tmp_path / "m" / "candidates"
    kept = tmp_path / "m" / "formats" / "candidates" / candidate.name / "notes.txt"
    assert kept.is_file()
    version = export.promote(candidate)
    assert version == tmp_path / "m" / "1"
    assert (tmp_path / "m" / "formats" / "1" / "notes.txt").is_file() and not kept.exists()


def test_stale_format_staging_of_a_dead_process_is_removed(tmp_path):
    model_dir = tmp_path / "m"
    stale = storage.formats_dir(model_dir) / f"{export.STAGING_PREFIX}{export._host()}-999999999-x"
    stale.mkdir(parents=True)
    assert export.remove_stale_staging(model_dir) == [stale] and not stale.exists()


def test_an_export_that_needs_data_it_was_not_given_says_so(tmp_path, only_notes):
    exporters.unregister_exporter("notes")
    exporters.register_exporter(
        exporters.Exporter(
            "notes", only_notes.write, only_notes.check, "notes.txt", needs=("calibration",)
        )
    )
    with pytest.raises(UsageError, match="--format notes needs calibration data"):
        export.publish(object(), tmp_path, "m", {}, [1], formats=("savedmodel", "notes"))
    assert not (tmp_path / "m").exists()  # refused before anything was written


@pytest.mark.slow
def test_a_registered_exporter_writes_beside_the_saved_model(tmp_path, notes):
    import numpy as np

    import modelzoo

    model = modelzoo.create_model("linear_regression", seed=0)
    samples = np.zeros((2, *model.inputs[0].shape[1:]), model.inputs[0].dtype)
    version = export.publish(
        model, tmp_path, "linear", {"name": "linear"}, samples, formats=("savedmodel", "notes")
    )
    assert {"saved_model.pb", "variables", "assets.extra"} <= {p.name for p in version.iterdir()}
    formats = storage.formats_folder(version)
    assert (formats / "notes.txt").read_text() == "linear: 2 samples\n"
    assert [call for call, _ in notes.calls] == ["write", "check"]
