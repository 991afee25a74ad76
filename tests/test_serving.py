"""The local TF-Serving-compatible server and the REST client: formats, error codes, load, hot versions."""

import json
import shutil
import threading

import numpy as np
import pytest
import requests
from click.testing import CliRunner
from conftest import publish
from google.protobuf import json_format
from PIL import Image
from tensorflow.core.protobuf import saved_model_pb2

from modelzoo import serving
from modelzoo.cli import cli
from modelzoo.errors import ModelzooError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(zoo):
    root, _ = zoo
    server = serving.Server(root, port=0, poll_seconds=0.2, max_request_bytes=200_000)
    server.start_background()
    yield server
    server.shutdown()


def post(server, path, body, raw=False):
    data = body if raw else json.dumps(body)
    return requests.post(f"{server.url}/v1/models/{path}", data=data, timeout=30)


def test_status_and_metadata_equal_the_saved_signature(server, zoo):
    root, _ = zoo
    status = requests.get(f"{server.url}/v1/models/xor", timeout=10).json()
    assert status == {
        "model_version_status": [
            {
                "version": "1",
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }
    assert requests.get(f"{server.url}/v1/models/xor/versions/1", timeout=10).status_code == 200
    metadata = requests.get(f"{server.url}/v1/models/cnn/metadata", timeout=10).json()
    assert metadata["model_spec"] == {"name": "cnn", "signature_name": "", "version": "1"}
    saved = saved_model_pb2.SavedModel.FromString(
        (root / "cnn" / "1" / "saved_model.pb").read_bytes()
    )
    expected = json_format.MessageToDict(
        saved.meta_graphs[0].signature_def["serving_default"], preserving_proto_field_name=True
    )
    assert metadata["metadata"]["signature_def"]["signature_def"]["serving_default"] == expected
    signature = serving.Signature.from_metadata(metadata)
    assert signature.input.example() == "image uint8[28,28,1]" and list(signature.outputs) == [
        "probabilities"
    ]


def test_predict_rows_and_columns_match_keras(server, zoo):
    _, models = zoo
    features = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    expected = models["xor"](features).numpy()
    rows = post(server, "xor:predict", {"instances": features.tolist()}).json()
    np.testing.assert_allclose(rows["predictions"], expected, atol=1e-6)
    named = post(
        server,
        "xor/versions/1:predict",
        {
            "signature_name": "serving_default",
            "instances": [{"features": f} for f in features.tolist()],
        },
    ).json()
    assert named == rows
    columns = post(server, "xor:predict", {"inputs": {"features": features.tolist()}}).json()
    np.testing.assert_allclose(columns["outputs"], expected, atol=1e-6)
    assert post(server, "xor:predict", {"inputs": features.tolist()}).json() == columns


JSON_TENSOR = "tensorflow_serving/util/json_tensor.cc"
REST_HANDLER = "tensorflow_serving/model_servers/http_rest_api_handler.cc"
DEEP = '{"instances": ' + "[" * 5000 + "]" * 5000 + "}"
ROW = np.full((28, 28, 1), 7).tolist()


# Each row: request, the status TF Serving answers, a part of the message, and the TF Serving source
# the behaviour follows. A str body is sent as it is; others as JSON (json.dumps writes NaN/Infinity).
@pytest.mark.parametrize(
    "path, body, code, message, source",
    [
        ("xor:predict", "{not json", 400, "JSON Parse error", f"{JSON_TENSOR} ParseJson"),
        (
            "xor:predict",
            "",
            400,
            "JSON Parse error",
            f"{JSON_TENSOR} ParseJson: the document is empty",
        ),
        (
            "xor:predict",
            b'{"instances": [[0, 1]], "x": "\xff"}',
            400,
            "JSON Parse error",
            f"{JSON_TENSOR} ParseJson: UTF-8 input",
        ),
        (
            "xor:predict",
            DEEP,
            400,
            "nested deeper than 64 levels",
            f"{JSON_TENSOR} ParseJson (no depth limit: deep lists fail FillTensorProto 'list at "
            "unexpected level'); was a 500 RecursionError",
        ),
        (
            "xor:predict",
            '{"instances": [[' + "1" * 5000 + ", 1]]}",
            400,
            "JSON Parse error",
            f"{JSON_TENSOR} ParseJson: rapidjson refuses such a number",
        ),
        (
            "xor:predict",
            [],
            400,
            "must be a JSON object",
            f"{JSON_TENSOR} ParseJson: 'Is not object'",
        ),
        (
            "xor:predict",
            {"instances": [[0, 1]], "inputs": [[0, 1]]},
            400,
            "exactly one of",
            f"{JSON_TENSOR} FillPredictRequestFromJson",
        ),
        (
            "xor:predict",
            {"instances": []},
            400,
            "non-empty list",
            f"{JSON_TENSOR} FillPredictRequestFromJson: 'No values'",
        ),
        (
            "xor:predict",
            {"instances": "ab"},
            400,
            "non-empty list",
            f"{JSON_TENSOR} FillPredictRequestFromJson: 'to be an list/array'",
        ),
        (
            "xor:predict",
            {"instances": [[0, 1, 2]]},
            400,
            r"shape [3] where the model takes features float32[2]",
            f"{JSON_TENSOR} AddInstanceItem",
        ),
        (
            "xor:predict",
            {"instances": [[0, 1], [0]]},
            400,
            "ragged",
            f"{JSON_TENSOR} AddInstanceItem: 'Expecting tensor size'",
        ),
        (
            "xor:predict",
            {"instances": [["a", "b"]]},
            400,
            'JSON value "a" is not of type float32',
            f"{JSON_TENSOR} AddValueToTensor DT_FLOAT",
        ),
        (
            "xor:predict",
            {"instances": [[True, 1]]},
            400,
            "JSON value true is not of type float32",
            f"{JSON_TENSOR} AddValueToTensor DT_FLOAT: IsNumber",
        ),
        (
            "xor:predict",
            {"instances": [[None, 1]]},
            400,
            "JSON value null is not of type float32",
            f"{JSON_TENSOR} AddValueToTensor",
        ),
        (
            "xor:predict",
            {"instances": [[1e39, 1]]},
            400,
            "1e+39 to float32 without loss of precision",
            f"{JSON_TENSOR} IsLosslessDecimal<float>",
        ),
        (
            "xor:predict",
            {"instances": [[2**24, 1]]},
            400,
            "16777216 to float32 without loss of precision",
            f"{JSON_TENSOR} IsLosslessDecimal<float>: kMaxInt",
        ),
        (
            "xor:predict",
            {"instances": [[2**24 - 1, 3.4e38]]},
            200,
            "",
            f"{JSON_TENSOR} IsLosslessDecimal<float>: in range",
        ),
        # Deliberate deviation: TF Serving parses NaN and Infinity (kParseNanAndInfFlag) and IsLosslessDecimal
        # passes non-finite values to the model, which answers NaN; the stand-in refuses them
        # (serving.protocol._as_tensor).
        (
            "xor:predict",
            {"instances": [[float("nan"), 1]]},
            400,
            "nan is not a number the model can take",
            f"{JSON_TENSOR} ParseJson (deviation)",
        ),
        (
            "xor:predict",
            {"instances": [[float("inf"), 1]]},
            400,
            "inf is not a number the model can take",
            f"{JSON_TENSOR} ParseJson (deviation)",
        ),
        (
            "xor:predict",
            '{"instances": [[-Infinity, 1]]}',
            400,
            "-inf is not a number",
            f"{JSON_TENSOR} ParseJson (deviation)",
        ),
        (
            "xor:predict",
            {"instances": [{"wrong": [0, 1]}]},
            400,
            "keys ['wrong'], the signature takes ['features']",
            f"{JSON_TENSOR} AddInstanceItem",
        ),
        (
            "xor:predict",
            {"inputs": {"wrong": [[0, 1]]}},
            400,
            "names ['wrong']",
            f"{JSON_TENSOR} FillTensorMapFromInputsMap",
        ),
        (
            "xor:predict",
            {"signature_name": "nope", "instances": [[0, 1]]},
            400,
            'Serving signature name: "nope" not found',
            "tensorflow_serving/servables/tensorflow/predict_util.cc",
        ),
        (
            "xor:predict",
            {"signature_name": ["x"], "instances": [[0, 1]]},
            400,
            "'signature_name' key must be a string value",
            f"{JSON_TENSOR} FillSignature; was a 500 TypeError",
        ),
        (
            "xor:predict",
            {"signature_name": None, "instances": [[0, 1]]},
            400,
            "'signature_name' key must be a string value",
            f"{JSON_TENSOR} FillSignature",
        ),
        (
            "xor:predict",
            {"signature_name": "", "instances": [[0, 1]]},
            200,
            "",
            f"{JSON_TENSOR} FillSignature: empty is the default",
        ),
        (
            "cnn:predict",
            {"instances": [np.full((28, 28, 1), 300).tolist()]},
            400,
            "outside uint8's range",
            "stricter than TF Serving (int_val is not range-checked)",
        ),
        (
            "cnn:predict",
            {"instances": [np.full((28, 28, 1), 0.5).tolist()]},
            400,
            "JSON value 0.5 is not of type uint8",
            f"{JSON_TENSOR} AddValueToTensor DT_UINT8: IsInt",
        ),
        (
            "cnn:predict",
            {"instances": [np.full((28, 28, 1), 1.0).tolist()]},
            400,
            "JSON value 1.0 is not of type uint8",
            f"{JSON_TENSOR} AddValueToTensor DT_UINT8: IsInt",
        ),
        (
            "cnn:predict",
            {"instances": [ROW[:27] + [[[True]] * 28]]},
            400,
            "JSON value true is not of type uint8",
            f"{JSON_TENSOR} AddValueToTensor DT_UINT8: IsInt; was accepted as 1",
        ),
        ("cnn:predict", {"instances": [ROW]}, 200, "", f"{JSON_TENSOR} AddValueToTensor DT_UINT8"),
        (
            "nope:predict",
            {"instances": [[0, 1]]},
            404,
            "Servable not found for request: Latest(nope)",
            REST_HANDLER,
        ),
        ("xor/versions/9:predict", {"instances": [[0, 1]]}, 404, "Specific(xor, 9)", REST_HANDLER),
        ("xor:classify", {"instances": [[0, 1]]}, 404, "not found", REST_HANDLER),
        (
            "cnn:predict",
            {"instances": np.zeros((100, 28, 28, 1), int).tolist()},
            413,
            "too large",
            "the stand-in's --max-request-mb",
        ),
    ],
)
def test_bad_requests_get_tf_serving_codes_and_the_server_stays_up(
    server, path, body, code, message, source
):
    response = post(server, path, body, raw=isinstance(body, (str, bytes)))
    assert response.status_code == code, response.text
    if code != 200:
        assert message in response.json()["error"]
    assert post(server, "xor:predict", {"instances": [[0, 1]]}).status_code == 200


def test_a_chunked_body_is_counted_as_it_streams(server):
    """A chunked body has no Content-Length: it was cut at the limit and parsed (400); it is a 413."""

    def too_large():
        yield b'{"instances": ['
        for _ in range(80):  # 5 MB, the limit is 200 kB
            yield b"[0, 1], " * 8192
        yield b"[0, 1]]}"

    response = requests.post(f"{server.url}/v1/models/xor:predict", data=too_large(), timeout=60)
    assert response.status_code == 413 and "request too large" in response.json()["error"]
    small = requests.post(
        f"{server.url}/v1/models/xor:predict",
        data=iter([b'{"instances": ', b"[[0, 1]]}"]),
        timeout=30,
    )
    assert small.status_code == 200 and len(small.json()["predictions"]) == 1


def test_stalled_uploads_hold_a_bounded_pool_and_time_out(zoo):
    """300 clients that send half a request and stall: a fixed pool serves them, each cut off after the timeout."""
    import socket
    import time

    root, _ = zoo
    before = threading.active_count()
    server = serving.Server(
        root, port=0, poll_seconds=0.2, workers=4, request_timeout=1.0, max_pending=16
    )
    server.start_background()
    stalled = []
    try:
        for index in range(300):  # half stall in the body, half in the headers
            connection = socket.create_connection(
                ("127.0.0.1", server.http.server_port), timeout=10
            )
            connection.sendall(
                b"POST /v1/models/xor:predict HTTP/1.1\r\nHost: x\r\nContent-Len"
                + (b'gth: 1000\r\n\r\n{"inst' if index % 2 else b"")
            )
            stalled.append(connection)
        time.sleep(0.3)
        assert (
            threading.active_count() - before <= 4 + 3
        )  # workers, the poller, the deadline thread, serve_forever
        start, answer = time.monotonic(), None
        while time.monotonic() - start < 20:
            answer = requests.post(
                f"{server.url}/v1/models/xor:predict", json={"instances": [[0, 1]]}, timeout=30
            )
            if answer.status_code == 200:
                break
            assert answer.status_code == 503, answer.text  # busy: refused at once, not left waiting
            time.sleep(0.2)
        assert answer.status_code == 200 and time.monotonic() - start < 10
        replies = []
        for connection in stalled:
            try:
                replies.append(connection.recv(64))
            except OSError:
                replies.append(b"")
        assert sum(r.startswith(b"HTTP/1.1 503") for r in replies) >= 250
        assert sum(r.startswith(b"HTTP/1.1 408") for r in replies) >= 1
        assert [
            r for r in replies[1::2] if not r.startswith((b"HTTP/1.1 503", b"HTTP/1.1 408"))
        ] == []
        # cut off in the headers: http.server answers the truncated request 400, or just closes
        assert [
            r for r in replies[::2] if r and not r.startswith((b"HTTP/1.1 503", b"HTTP/1.1 400"))
        ] == []
    finally:
        for connection in stalled:
            connection.close()
        server.shutdown()


def test_status_and_metadata_errors(server):
    assert requests.get(f"{server.url}/v1/models/nope", timeout=10).status_code == 404
    assert (
        requests.get(f"{server.url}/v1/models/xor/versions/3", timeout=10).json()["error"]
        == "Could not find version 3 of model xor"
    )
    assert requests.get(f"{server.url}/v1/models/nope/metadata", timeout=10).status_code == 404
    assert requests.get(f"{server.url}/v1/models/xor:predict", timeout=10).status_code == 405


def test_eight_threads_by_fifty_requests_lose_nothing(server, zoo):
    _, models = zoo
    inputs = np.random.default_rng(1).uniform(size=(400, 2)).astype("float32")
    expected = models["xor"](inputs).numpy()[:, 0]
    answers, errors = {}, []

    def worker(thread):
        with requests.Session() as session:
            for i in range(thread * 50, thread * 50 + 50):
                response = session.post(
                    f"{server.url}/v1/models/xor:predict",
                    json={"instances": [inputs[i].tolist()]},
                    timeout=30,
                )
                if response.status_code != 200:
                    errors.append(response.text)
                else:
                    answers[i] = response.json()["predictions"][0][0]

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) == 400
    np.testing.assert_allclose([answers[i] for i in range(400)], expected, atol=1e-6)


def wait_for_version(url, name, version, timeout=30):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = requests.get(f"{url}/v1/models/{name}", timeout=10).json()
        if status["model_version_status"][0]["version"] == str(version):
            return True
        time.sleep(0.2)
    return False


def test_new_versions_are_served_and_half_written_ones_never(tmp_path):
    _, first = publish(tmp_path, "two_layer_perceptron", "xor", seed=0)
    server = serving.Server(tmp_path, port=0, poll_seconds=0.2)
    server.start_background()
    try:
        half = tmp_path / "xor" / "2"
        half.mkdir()
        shutil.copy(first / "saved_model.pb", half)  # variables not copied yet
        (half / "variables").mkdir()
        (half / "variables" / "variables.index").write_bytes(
            (first / "variables" / "variables.index").read_bytes()[:10]
        )
        assert not wait_for_version(server.url, "xor", 2, timeout=2)
        assert (
            post(server, "xor:predict", {"instances": [[0, 1]]}).status_code == 200
        )  # version 1 still serves
        shutil.rmtree(half)
        shutil.copytree(first, half)  # now complete
        assert wait_for_version(server.url, "xor", 2)
        model, third = publish(tmp_path, "two_layer_perceptron", "xor", seed=5)
        assert third.name == "3" and wait_for_version(server.url, "xor", 3)
        answer = post(server, "xor:predict", {"instances": [[1, 0]]}).json()["predictions"]
        np.testing.assert_allclose(answer, model(np.array([[1, 0]], "float32")).numpy(), atol=1e-6)
    finally:
        server.shutdown()


def test_versions_published_under_load_fail_no_request(tmp_path, monkeypatch):
    """Six clients hammer predict while five new versions are published: every request answers 200.

    The old version's session was closed the moment the new one was swapped in, failing requests
    still running on it ("Attempted to use a closed Session"); each request now holds its version
    until it ends. A 20 ms pause before each run widens the window a slower model would have.
    """
    import os
    import time

    model, first = publish(tmp_path, "two_layer_perceptron", "xor", seed=0)
    expected = model(np.array([[0, 1]], "float32")).numpy().tolist()
    real_run = serving.Servable.run

    def slow_run(self, *args, **kwargs):
        time.sleep(0.02)
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(serving.Servable, "run", slow_run)
    server = serving.Server(tmp_path, port=0, poll_seconds=0.1)
    server.start_background()
    stop, failures, answered = threading.Event(), [], [0]

    def client():
        with requests.Session() as session:
            while not stop.is_set():
                response = session.post(
                    f"{server.url}/v1/models/xor:predict", json={"instances": [[0, 1]]}, timeout=30
                )
                if response.status_code != 200 or response.json()["predictions"] != expected:
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                answered[0] += 1

    threads = [threading.Thread(target=client) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for version in range(2, 7):
            staging = tmp_path / "xor" / f".staging-{version}"
            shutil.copytree(first, staging)
            os.rename(
                staging, tmp_path / "xor" / str(version)
            )  # published as export.publish does: complete, then renamed
            assert wait_for_version(server.url, "xor", version)
            time.sleep(0.3)  # requests run on the new version before the next switch
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.shutdown()
    assert failures == [] and answered[0] > 100
    assert server.repository._leases == {} and server.repository._retired == set()


def test_client_round_trip_and_unreachable_server(server, zoo):
    _, models = zoo
    client = serving.Client(server.url, "cnn")
    signature = client.signature()
    images = np.random.default_rng(2).integers(0, 256, (3, 28, 28, 1)).astype("uint8")
    outputs = client.predict({"image": images}, signature)
    np.testing.assert_allclose(outputs["probabilities"], models["cnn"](images).numpy(), atol=1e-6)
    with pytest.raises(ModelzooError, match="cannot reach a model server at http://127.0.0.1:9"):
        serving.Client("http://127.0.0.1:9", "cnn", timeout=2).status()
    with pytest.raises(serving.ServingError, match="HTTP 404"):
        serving.Client(server.url, "missing").metadata()


def test_predict_command_locally_and_through_the_server(server, zoo, tmp_path):
    root, models = zoo
    digit = np.zeros((28, 28), np.uint8)
    digit[5:23, 12:16] = 255
    Image.fromarray(digit).save(tmp_path / "one.png")
    expected = models["cnn"](digit[None, ..., None]).numpy()[0]
    best = int(np.argmax(expected))

    local = CliRunner().invoke(
        cli, ["predict", str(root / "cnn"), str(tmp_path / "one.png"), "--json", "--top", "2"]
    )
    assert local.exit_code == 0, local.output
    answer = json.loads(local.output)[0]
    assert answer["top"][0]["class"] == best and len(answer["top"]) == 2
    np.testing.assert_allclose(answer["outputs"]["probabilities"], expected, atol=1e-6)

    remote = CliRunner().invoke(
        cli,
        ["predict", "--url", server.url, "--model", "cnn", str(tmp_path / "one.png"), "--top", "2"],
    )
    assert remote.exit_code == 0, remote.output
    assert remote.output.startswith(f"{tmp_path / 'one.png'}: {best} (")

    (tmp_path / "rows.csv").write_text("x1,x2\n0,1\n1,1\n")
    rows = CliRunner().invoke(
        cli,
        ["predict", "--url", server.url, "--model", "xor", "--input", str(tmp_path / "rows.csv")],
    )
    assert rows.exit_code == 0 and rows.output.count("probability of class 1") == 2


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["predict", "--url", "http://127.0.0.1:9", "x.png"], 2, "--url needs --model NAME"),
        (
            ["predict", "--model", "cnn", "x.png"],
            2,
            "--model and --version name a model on a server",
        ),
        (["predict"], 2, "give MODEL:TAG (e.g. small_cnn:mnist) or a SAVED_MODEL folder"),
        (
            ["predict", "nowhere", "x.png"],
            2,
            "nowhere: neither a SavedModel folder nor MODEL:TAG shipped weights",
        ),
        (
            ["predict", "{root}/cnn"],
            2,
            "nothing to predict: the model takes image uint8[28,28,1]; give image files",
        ),
        (
            ["predict", "{root}/xor", "{root}/xor/1/saved_model.pb"],
            2,
            "takes features float32[2], not images",
        ),
        (
            ["predict", "{root}/cnn", "{root}/xor/1/saved_model.pb"],
            2,
            "not an image Pillow can read",
        ),
        (["predict", "{root}", "x.png"], 1, "holds no SavedModel"),
    ],
)
def test_predict_mistakes_are_one_line(zoo, args, code, message):
    root, _ = zoo
    result = CliRunner().invoke(cli, [a.format(root=root) for a in args])
    assert result.exit_code == code, result.output
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_readme_rest_examples_match_a_fresh_export_and_work(tmp_path):
    """The README's curl payloads are rendered from recorded exports; they must fit today's export."""
    import re
    import shlex
    from pathlib import Path

    from benchmarks.publish_weights import serving_example
    from modelzoo import recipe_file, training

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    recorded = recipe_file.measured_results()["diabetes"]["serving"]
    resolved = recipe_file.load("diabetes", {"train.epochs": 1})
    result = training.run(
        resolved,
        runs_root=tmp_path / "runs",
        export_dir=tmp_path / "saved_models",
        echo=lambda *_: None,
        publish_anyway=True,
    )  # one epoch misses the recipe's target: served here all the same
    fresh = serving_example(result.export_path.parent)
    assert (fresh["inputs"], fresh["outputs"]) == (recorded["inputs"], recorded["outputs"])

    command = re.search(
        r"^curl -s -X POST http://localhost:8501/v1/models/diabetes:predict -d (.*)$", readme, re.M
    )
    payload = shlex.split(command.group(1))[0]
    server = serving.Server(tmp_path / "saved_models", port=0)
    server.start_background()
    try:
        answer = requests.post(f"{server.url}/v1/models/diabetes:predict", data=payload, timeout=30)
        assert answer.status_code == 200 and np.shape(answer.json()["predictions"]) == (1, 1)
    finally:
        server.shutdown()
