"""`modelzoo predict --print-request`: the REST body a server answers as `modelzoo predict` does."""

import json

import numpy as np
import pytest
import requests
from click.testing import CliRunner
from PIL import Image

from modelzoo import export, serving
from modelzoo.cli import cli
from modelzoo.datasets import wild_digits

pytestmark = pytest.mark.slow


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="modelzoo")
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """small_cnn with its shipped mnist weights exported as `mnist` and served; two held-out digit images."""
    root = tmp_path_factory.mktemp("saved_models")
    export.publish_shipped("small_cnn", "mnist", root, "mnist")
    server = serving.Server(root, port=0, poll_seconds=0.2)
    server.start_background()
    images, labels, _ = wild_digits.load("test")
    digits = {}
    for digit in (7, 2):  # 64x64, dark ink on light paper: nothing like MNIST until prepared
        index = int(np.flatnonzero(labels == digit)[0])
        path = root.parent / f"digit{digit}.png"
        Image.fromarray(images[index]).save(path)
        digits[digit] = path
    yield root / "mnist", server, digits
    server.shutdown()


def test_printed_body_gets_the_answer_modelzoo_predict_gives(served):
    export_dir, server, digits = served
    files = [digits[7], digits[2]]
    body = json.loads(invoke("predict", export_dir, "--print-request", *files))
    assert body["signature_name"] == "serving_default"
    assert np.asarray(body["instances"]).shape == (2, 28, 28, 1)
    assert all(
        isinstance(v, int) for v in np.asarray(body["instances"]).ravel().tolist()[:50]
    )  # uint8 input

    answer = requests.post(
        f"{server.url}/v1/models/mnist:predict", data=json.dumps(body), timeout=30
    )
    assert answer.status_code == 200, answer.text
    served_probabilities = np.asarray(answer.json()["predictions"])
    predicted = json.loads(invoke("predict", export_dir, "--json", *files))
    local_probabilities = np.asarray([p["outputs"]["probabilities"] for p in predicted])
    np.testing.assert_allclose(served_probabilities, local_probabilities, atol=1e-6)
    assert served_probabilities.argmax(axis=1).tolist() == [7, 2]


def test_every_source_of_the_signature_prints_the_same_body(served):
    export_dir, server, digits = served
    local = invoke("predict", export_dir, "--print-request", digits[7])
    assert invoke("predict", "small_cnn:mnist", "--print-request", digits[7]) == local
    assert (
        invoke("predict", "--url", server.url, "--model", "mnist", "--print-request", digits[7])
        == local
    )
