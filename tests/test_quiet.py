"""TensorFlow's own log lines stay out of command output unless --verbose or TF_CPP_MIN_LOG_LEVEL asks."""

import os
import re
import subprocess
import sys

import pytest
from PIL import Image

from modelzoo.datasets import wild_digits
from modelzoo.quiet import is_noise

# What TensorFlow 2.21 prints at import and first use on a CPU machine, and tfds's absl warning.
CPP_SOURCE = re.compile(r"^[IWEF]\d{4} .*? (\S+:\d+)\] ", re.MULTILINE)


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TF_CPP_MIN_LOG_LEVEL", "MODELZOO_DATA_MIRROR")
    }
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**environment, **env},
    )


def test_is_noise_drops_cpp_log_lines_below_the_level_and_keeps_the_rest():
    info = b"I0000 00:00:1795537281.220521    2117 port.cc:153] oneDNN custom operations are on.\n"
    error = b"E0000 00:00:1795537326.669805    4142 cuda_platform.cc:52] failed call to cuInit\n"
    fatal = b"F0000 00:00:1795537326.669805    4142 op_kernel.cc:9] Check failed: x\n"
    banner = (
        b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    )
    assert is_noise(info, 1) and is_noise(error, 3) and is_noise(banner, 2)
    assert not is_noise(error, 2) and not is_noise(fatal, 3)
    assert not any(is_noise(line, 0) for line in (info, error, banner))
    assert not is_noise(b"Traceback (most recent call last):\n", 3)
    assert not is_noise(b"python -m modelzoo.recipes: error: mnist is not prepared\n", 3)


@pytest.mark.slow
def test_a_data_error_is_the_only_line_on_stderr_unless_verbose(tmp_path):
    args = (
        "modelzoo.recipes",
        "mnist",
        "--data-mirror",
        str(tmp_path),
        "--data-dir",
        str(tmp_path / "tfds"),
        "--run-dir",
        str(tmp_path / "run"),
        "--no-export",
    )
    quiet = run(*args)
    assert quiet.returncode == 1
    lines = quiet.stderr.splitlines()
    assert len(lines) == 1, quiet.stderr
    assert lines[0].startswith("python -m modelzoo.recipes: error: mnist: the mirror folder")

    verbose = run(*args, "--verbose")
    assert verbose.returncode == 1
    assert verbose.stderr.splitlines()[-1] == lines[0]
    assert (
        "Variant folder" in verbose.stderr
    )  # tfds's warning is kept; TensorFlow's own lines depend on the machine

    # A user's own TF_CPP_MIN_LOG_LEVEL is theirs: 0 keeps the C++ lines --verbose shows.
    chatty = run(*args, TF_CPP_MIN_LOG_LEVEL="0")
    assert chatty.stderr.splitlines()[-1] == lines[0]
    assert set(CPP_SOURCE.findall(verbose.stderr)) <= set(CPP_SOURCE.findall(chatty.stderr))


@pytest.mark.slow
def test_predict_with_tensorflow_prints_nothing_on_stderr(tmp_path):
    images, labels, _ = wild_digits.load("test")
    Image.fromarray(images[0]).save(tmp_path / "digit.png")
    result = run("modelzoo", "predict", "small_cnn:mnist", str(tmp_path / "digit.png"))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith(f"{tmp_path / 'digit.png'}: ")
