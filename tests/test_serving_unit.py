"""Fast checks of `modelzoo serve`'s model repository and request rules, with no TensorFlow model loaded.

The repository's loads go through a stand-in Servable, so version polling, hot swaps and the
version-folder rule are tested in milliseconds; tests/test_serving.py runs the real thing.
"""

import logging
import time

import pytest
from click.testing import CliRunner

from modelzoo import serving, storage, tfserving, verify
from modelzoo.cli import cli


class FakeServable:
    """Loads instantly; records when it is closed."""

    def __init__(self, name, version, path):
        self.name, self.version, self.path = name, version, path
        self.closed = False

    def close(self):
        self.closed = True


@pytest.fixture
def fake_servable(monkeypatch):
    monkeypatch.setattr(serving.repository, "Servable", FakeServable)
    return FakeServable


def add_version(root, name, version):
    folder = root / name / str(version)
    folder.mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"")
    return folder


def wait_until(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


# TF Serving takes a child of the base path as a version when safe_strto64 parses its name
# (tensorflow_serving/sources/storage_path/file_system_storage_path_source.cc, ParseVersionNumber);
# only ASCII digits are versions here, never str.isdigit()'s Unicode digits.
@pytest.mark.parametrize(
    "name, version",
    [
        ("1", 1),
        ("42", 42),
        ("007", 7),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),  # past int64: safe_strto64 fails
        ("²", None),
        ("١", None),
        ("１", None),  # Unicode digits: isdigit() is true, TF Serving skips them
        ("", None),
        ("1.0", None),
        ("+1", None),
        ("-1", None),
        (" 1", None),
        ("1\n", None),
        ("v1", None),
    ],
)
def test_only_ascii_digit_names_are_versions(name, version):
    assert storage.parse_version(name) == version


def test_version_folders_skip_other_names_and_files(tmp_path):
    for name in ("1", "10", "2", "²", "latest", ".staging-x", "007"):
        (tmp_path / name).mkdir()
    (tmp_path / "3").write_text("a file, not a version folder")
    skipped = []
    assert storage.version_folders(tmp_path, skipped) == {
        1: tmp_path / "1",
        2: tmp_path / "2",
        7: tmp_path / "007",
        10: tmp_path / "10",
    }
    assert sorted(skipped) == [
        "latest",
        "²",
    ]  # hidden folders (a publish's staging) are not reported
    assert storage.version_folders(tmp_path / "missing") == {}
    assert storage.version_numbers(tmp_path) == [1, 2, 7, 10]


def test_a_stray_folder_never_stops_the_poller(tmp_path, fake_servable, caplog):
    add_version(tmp_path, "m", 1)
    (tmp_path / "m" / "²").mkdir()  # int("²") raised in the poller thread, which then ended
    (tmp_path / "m" / "formats").mkdir()  # the zoo's own folders are skipped without a word
    (tmp_path / "m" / "candidates").mkdir()
    repository = serving.ModelRepository(tmp_path, poll_seconds=0.05)
    with caplog.at_level(logging.INFO, logger="modelzoo.serving"):
        repository.start()
        try:
            assert repository.models() == {"m": 1}
            (tmp_path / "m" / "³").mkdir()
            time.sleep(0.2)
            add_version(tmp_path, "m", 2)
            assert wait_until(lambda: repository.models() == {"m": 2})
            assert repository._thread.is_alive()
        finally:
            repository.stop()
    skipped = [r.getMessage() for r in caplog.records if "not a version" in r.getMessage()]
    assert (
        len(skipped) == 2 and "'²'" in skipped[0] and "'³'" in skipped[1]
    )  # each logged once, not every poll


def test_an_exception_in_one_poll_never_ends_the_poller(tmp_path, fake_servable, monkeypatch):
    add_version(tmp_path, "m", 1)
    repository = serving.ModelRepository(tmp_path, poll_seconds=0.05)
    repository.start()
    real_refresh, failures = repository.refresh, []

    def failing_refresh(settle=True):
        if len(failures) < 3:
            failures.append(1)
            raise RuntimeError("a poll that fails")
        real_refresh(settle)

    monkeypatch.setattr(repository, "refresh", failing_refresh)
    try:
        add_version(tmp_path, "m", 2)
        assert wait_until(lambda: repository.models() == {"m": 2})
        assert len(failures) == 3 and repository._thread.is_alive()
    finally:
        repository.stop()


def test_serving_config_ignores_unicode_digit_folders(tmp_path):
    (tmp_path / "m" / "²").mkdir(parents=True)
    (tmp_path / "m" / "²" / "saved_model.pb").write_bytes(b"")
    assert tfserving.servable_models(tmp_path) == {}
    add_version(tmp_path, "m", 1)
    assert list(tfserving.servable_models(tmp_path)) == ["m"]


@pytest.mark.parametrize(
    "layout, path, message",
    [
        (
            ["m/²"],
            "m",
            "holds no SavedModel and no integer version folder",
        ),  # was a ValueError traceback
        (["m/1"], "m", "m/1 holds no saved_model.pb"),  # was a FileNotFoundError traceback
        (["m/1/variables"], "m/1", "holds no SavedModel"),
    ],
)
def test_verify_of_a_folder_without_a_saved_model_is_one_line(tmp_path, layout, path, message):
    for folder in layout:
        (tmp_path / folder).mkdir(parents=True)
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / path)])
    assert result.exit_code == 1, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert isinstance(
        result.exception, SystemExit
    )  # an error line and exit 1, not an uncaught exception
    with pytest.raises(verify.VerifyError):
        verify.version_dir(tmp_path / path)


def test_a_replaced_version_stays_open_until_its_last_request_ends(tmp_path, fake_servable):
    add_version(tmp_path, "m", 1)
    repository = serving.ModelRepository(tmp_path)
    repository.refresh(settle=False)
    with repository.lease("m") as first, repository.lease("m", 1) as again:
        assert first is again and first.version == 1
        add_version(tmp_path, "m", 2)
        repository.refresh(settle=False)
        assert (
            repository.models() == {"m": 2} and not first.closed
        )  # two requests still run on version 1
        with repository.lease("m") as second:
            assert second.version == 2
        with pytest.raises(serving.ServingError, match=r"Specific\(m, 1\)"):
            with repository.lease("m", 1):
                pass  # a retired version takes no new requests
    assert first.closed and not second.closed  # closed by the last release
    add_version(tmp_path, "m", 3)
    repository.refresh(settle=False)
    assert second.closed  # no request held it: closed at the switch
    repository.stop()
    assert repository._served == {} and repository._leases == {} and repository._retired == set()
