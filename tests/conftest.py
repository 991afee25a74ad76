"""Shared test set-up: quiet TensorFlow, a helper that runs Python in a fresh process, and small
exported models for the serving tests."""

import os
import subprocess
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


#: `-n auto` starts one worker per core up to this many: each is a TensorFlow process (a GiB or
#: more once it trains), and the slow tests start further processes of their own.
MAX_WORKERS = 8


def pytest_xdist_auto_num_workers(config) -> int:
    """pytest-xdist's `-n auto`: one worker per core this process may use, at most MAX_WORKERS."""
    # sched_getaffinity (the cores this process may run on, e.g. under a CPU quota's cpuset) is
    # Linux only; elsewhere every core counts.
    if hasattr(os, "sched_getaffinity"):
        usable = len(os.sched_getaffinity(0))
    else:
        usable = os.cpu_count() or 1
    return max(1, min(usable, MAX_WORKERS))


@pytest.hookimpl(trylast=True)  # after -m and -k have deselected
def pytest_collection_modifyitems(config, items) -> None:
    """The tests marked `longest` (a minute or more each) run first. `--dist worksteal` gives each
    worker a contiguous block of the list and lets one that runs out take the tail of another's
    queue; a long test near the end would keep one worker busy while the others sit idle.

    They all head the first block, one after another: most start processes of their own, and
    on 2 cores spreading them over the workers' blocks, so that two ran at once, made a
    clean-clone CI's tests take 847 s, against 781 s and 822 s in two runs of this order."""
    items.sort(key=lambda item: item.get_closest_marker("longest") is None)


def run_python(code: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter (nothing imported yet) and capture its output."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
    )


def recipes_in_process(*args: str):
    """`python -m modelzoo.recipes ARGS` through its CLI in this process (a fresh process would
    import TensorFlow again, ~9 s here): click's Result (exit_code, stdout, output, exception)."""
    from click.testing import CliRunner
    from modelzoo.recipes.__main__ import main

    return CliRunner().invoke(main, list(args))


@pytest.fixture
def fresh_python():
    return run_python


@pytest.fixture(scope="session")
def mirror():
    """The real-data mirror (MODELZOO_DATA_MIRROR); skipped without one, except under CI."""
    from pathlib import Path

    folder = os.environ.get("MODELZOO_DATA_MIRROR")
    if folder and Path(folder, "mnist").is_dir():
        return Path(folder).resolve()
    reason = (
        "no real-data mirror: set MODELZOO_DATA_MIRROR to a folder whose mnist/ holds the four "
        "MNIST .gz files (e.g. ../shared/data) to run the integration tests"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def publish(export_dir, factory: str, name: str, seed: int = 0):
    """(model, version folder): a fresh zoo model exported as the next version of `name`."""
    import numpy as np

    import modelzoo
    from modelzoo import export

    model = modelzoo.create_model(factory, seed=seed)
    spec = model.inputs[0]
    rng = np.random.default_rng(seed)
    if spec.dtype == "uint8":
        samples = rng.integers(0, 256, size=(4, *spec.shape[1:])).astype("uint8")
    else:
        samples = rng.normal(size=(4, *spec.shape[1:])).astype(spec.dtype)
    return model, export.publish(model, export_dir, name, {"name": name}, samples)


def publish_copy(model_dir, first, version: int) -> None:
    """Version `version` of a model: a copy of version folder `first`, staged under a hidden name
    and renamed into place, as `export.publish` does (a server never sees it half-written)."""
    import shutil

    staging = model_dir / f".staging-{version}"
    shutil.copytree(first, staging)
    os.rename(staging, model_dir / str(version))


@pytest.fixture(scope="module")
def zoo(tmp_path_factory):
    """Two exported models: `xor` (features float32[2] -> probability) and `cnn` (image uint8 ->
    probabilities), as (export dir, {name: Keras model})."""
    root = tmp_path_factory.mktemp("saved_models")
    xor, _ = publish(root, "two_layer_perceptron", "xor")
    cnn, _ = publish(root, "small_cnn", "cnn")
    return root, {"xor": xor, "cnn": cnn}
