"""Real MNIST digits as PNG files, classified by a trained export locally and through `modelzoo serve`."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from modelzoo import data, recipe_file, serving, training

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, mirror):
    """The mnist recipe on 20,000 training examples for 2 epochs, exported; and 20 real test digits."""
    root = tmp_path_factory.mktemp("mnist")
    resolved = recipe_file.load("mnist", {"train.epochs": 2, "data.max_examples": 20000})
    training.run(
        resolved,
        runs_root=root / "runs",
        export_dir=root / "saved_models",
        mirror=mirror,
        echo=lambda *_: None,
        publish_anyway=True,
    )  # a --max-examples run is never published by the gate alone
    images, labels = data.take_arrays(data.load("mnist", mirror=mirror).test, 20)
    return root / "saved_models", images, labels


def as_scans(images, folder):
    """Each digit as a user might have it: 4x larger, black ink on white paper, RGB PNG."""
    paths = []
    for index, image in enumerate(images):
        scan = (
            Image.fromarray(255 - image[..., 0])
            .resize((112, 112), Image.Resampling.BICUBIC)
            .convert("RGB")
        )
        paths.append(str(folder / f"digit{index}.png"))
        scan.save(paths[-1])
    return paths


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def modelzoo_cli(*args, timeout=120):
    return subprocess.run(
        [sys.executable, "-m", "modelzoo", *args], capture_output=True, text=True, timeout=timeout
    )


def test_png_digits_are_classified_locally_and_through_modelzoo_serve(trained, tmp_path):
    export_dir, images, labels = trained
    paths = as_scans(images, tmp_path)

    local = modelzoo_cli("predict", str(export_dir / "mnist"), *paths, "--json")
    assert local.returncode == 0, local.stderr
    answers = json.loads(local.stdout)
    predicted = np.array([a["top"][0]["class"] for a in answers])
    assert (predicted == labels).sum() >= 18, (predicted, labels)

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "modelzoo",
            "serve",
            str(export_dir),
            "--port",
            str(port),
            "--no-grpc",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )
    try:
        serving.wait_until_ready(f"http://127.0.0.1:{port}", "mnist", timeout=90)
        remote = modelzoo_cli(
            "predict", "--url", f"http://127.0.0.1:{port}", "--model", "mnist", *paths, "--json"
        )
        assert remote.returncode == 0, remote.stderr
        for here, there in zip(answers, json.loads(remote.stdout)):
            assert [t["class"] for t in here["top"]] == [t["class"] for t in there["top"]]
            np.testing.assert_allclose(
                here["outputs"]["probabilities"], there["outputs"]["probabilities"], atol=1e-6
            )
        first = modelzoo_cli(
            "predict", "--url", f"http://127.0.0.1:{port}", "--model", "mnist", paths[0]
        )
        assert first.stdout.startswith(f"{paths[0]}: {labels[0]} (")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert f"serving mnist version 1: http://127.0.0.1:{port}/v1/models/mnist" in output
