"""The local TF-Serving-compatible server and the REST client: formats, error codes, load, hot versions."""

import json
import shutil
import threading

import numpy as np
import pytest
import requests
from click.testing import CliRunner
from conftest import publish, publish_copy
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
    # ToJsonString (http_rest_api_util.cc) prints with always_print_fields_with_no_presence:
    # fields at their defaults are there too (a dim's name, unknown_rank, defaults).
    expected = json_format.MessageToDict(
        saved.meta_graphs[0].signature_def["serving_default"],
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
    served = metadata["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert served == expected and served["defaults"] == {}
    image = served["inputs"]["image"]["tensor_shape"]
    assert image["unknown_rank"] is False and image["dim"][0] == {"size": "-1", "name": ""}
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
PREDICT_UTIL = "tensorflow_serving/servables/tensorflow/predict_util.cc"
DEEP = '{"instances": ' + "[" * 5000 + "]" * 5000 + "}"
ROW = np.full((28, 28, 1), 7).tolist()
ELEMENT_0 = "Failed to process element: 0 of 'instances' list. Error: INVALID_ARGUMENT: "


# Each row: request, the status and the whole error text TF Serving answers, and the TF Serving
# source (function, or test in json_tensor_test.cc) the behaviour follows. A str body is sent as
# it is; others as JSON (json.dumps writes NaN/Infinity). Deliberate differences say so.
@pytest.mark.parametrize(
    "path, body, code, message, source",
    [
        (
            "xor:predict",
            "{not json",
            400,
            "JSON Parse error: Missing a name for object member. at offset: 1",
            f"{JSON_TENSOR} ParseJson",
        ),
        (
            "xor:predict",
            "",
            400,
            "JSON Parse error: The document is empty",
            f"{JSON_TENSOR} ParseJson; http_rest_api_handler_test.cc PredictRequestErrors",
        ),
        (
            "xor:predict",
            '{"instances": [[0, 1]]} and more',
            200,
            "",
            f"{JSON_TENSOR} ParseJson: kParseStopWhenDoneFlag ignores what follows",
        ),
        (
            "xor:predict",
            b'{"instances": [[0, 1]], "x": "\xff"}',
            200,
            "",
            f"{JSON_TENSOR} ParseJson: rapidjson does not validate UTF-8",
        ),
        (
            "xor:predict",
            DEEP,
            400,
            "tensor parsing error: features",
            f"{JSON_TENSOR} (iterative parse, 5000 dims) then GetInputValues' Tensor::FromProto; "
            "was a 500 RecursionError",
        ),
        (
            "xor:predict",
            '{"instances": [[' + "1" * 5000 + ", 1]]}",
            400,
            "JSON Parse error: Number too big to be stored in double. at offset: 16",
            f"{JSON_TENSOR} ParseJson",
        ),
        ("xor:predict", [], 400, "JSON Value: [] Is not object", f"{JSON_TENSOR} ParseJson"),
        (
            "xor:predict",
            {"instances": [[0, 1]], "inputs": [[0, 1]]},
            400,
            'JSON Value: {\n    "instances": [[0, 1]],\n    "inputs": [[0, 1]]\n} Not formatted '
            "correctly expecting only one of 'inputs' or 'instances' keys to exist ",
            f"{JSON_TENSOR} FillPredictRequestFromJson",
        ),
        (
            "xor:predict",
            {"instances": []},
            400,
            "JSON Value: {\n    \"instances\": []\n} No values in 'instances' array",
            f"{JSON_TENSOR} FillPredictRequestFromJson",
        ),
        (
            "xor:predict",
            {"instances": "ab"},
            400,
            'JSON Value: {\n    "instances": "ab"\n} Expecting \'instances\' to be an list/array',
            f"{JSON_TENSOR} FillPredictRequestFromJson",
        ),
        ("xor:predict", {"x": 1}, 400, "Missing 'inputs' or 'instances' key", JSON_TENSOR),
        (
            "xor:predict",
            {"instances": [[0, 1, 2]]},
            400,
            "input features: shape [1,3] where the signature takes [-1,2] (-1: any); TF Serving "
            "would run the model on it, modelzoo serve refuses it",
            f"deliberate difference: {PREDICT_UTIL} RunPredict runs any shape (some kernels "
            "abort the server on a wrong one)",
        ),
        (
            "xor:predict",
            {"instances": [[0, 1], [0]]},
            400,
            "Failed to process element: 1 of 'instances' list. Error: INVALID_ARGUMENT: "
            "Expecting tensor size: 2 but got: 1",
            f"{JSON_TENSOR} AddInstanceItem",
        ),
        (
            "xor:predict",
            {"instances": [[0, [1]]]},
            400,
            ELEMENT_0 + "Encountered list at unexpected level: 1 expected < 1",
            f"{JSON_TENSOR} FillTensorProto",
        ),
        (
            "xor:predict",
            {"instances": [["a", "b"]]},
            400,
            ELEMENT_0 + 'JSON Value: "a" Type: String is not of expected type: float',
            f"{JSON_TENSOR} AddValueToTensor DT_FLOAT",
        ),
        (
            "xor:predict",
            {"instances": [[True, 1]]},
            400,
            ELEMENT_0 + "JSON Value: true Type: True is not of expected type: float",
            f"{JSON_TENSOR} AddValueToTensor DT_FLOAT: IsNumber",
        ),
        (
            "xor:predict",
            {"instances": [[None, 1]]},
            400,
            ELEMENT_0 + "JSON Value: null Type: Null is not of expected type: float",
            f"{JSON_TENSOR} AddValueToTensor",
        ),
        (
            "xor:predict",
            {"instances": [[2**24 + 1, 3.4e38]]},
            200,
            "",
            f"{JSON_TENSOR} AddValueToTensor DT_FLOAT: any number, GetFloat rounds",
        ),
        (
            "xor:predict",
            {"instances": [[float("nan"), 1]]},
            200,
            "",
            f"{JSON_TENSOR} ParseJson: kParseNanAndInfFlag; the model answers NaN",
        ),
        (
            "xor:predict",
            {"instances": [[1e39, 1]]},
            400,
            "JSON Value: 1e39 is too large for float; TF Serving would silently use infinity, "
            "modelzoo serve refuses it",
            f"deliberate difference: {JSON_TENSOR} AddValueToTensor GetFloat overflows to inf",
        ),
        (
            "xor:predict",
            {"instances": [{"wrong": [0, 1]}]},
            400,
            "Failed to process element: 0 key: wrong of 'instances' list. Error: "
            "INVALID_ARGUMENT: JSON object: does not have named input: wrong",
            f"{JSON_TENSOR} AddInstanceItem",
        ),
        (
            "xor:predict",
            {"inputs": {"wrong": [[0, 1]]}},
            400,
            "Missing named input: features in 'inputs' object.",
            f"{JSON_TENSOR} FillTensorMapFromInputsMap",
        ),
        (
            "xor:predict",
            {"signature_name": "nope", "instances": [[0, 1]]},
            400,
            'Serving signature name: "nope" not found in signature def',
            f"{REST_HANDLER} GetInfoMap",
        ),
        (
            "xor:predict",
            {"signature_name": "__saved_model_init_op", "instances": [[0, 1]]},
            400,
            "Failed to get input map for signature: __saved_model_init_op",
            f"{JSON_TENSOR} FillPredictRequestFromJson",
        ),
        (
            "xor:predict",
            {"signature_name": ["x"], "instances": [[0, 1]]},
            400,
            'JSON Value: {\n    "signature_name": ["x"],\n    "instances": [[0, 1]]\n} not '
            "formatted correctly. 'signature_name' key must be a string value.",
            f"{JSON_TENSOR} FillSignature; was a 500 TypeError",
        ),
        (
            "xor:predict",
            {"signature_name": None, "instances": [[0, 1]]},
            400,
            'JSON Value: {\n    "signature_name": null,\n    "instances": [[0, 1]]\n} not '
            "formatted correctly. 'signature_name' key must be a string value.",
            f"{JSON_TENSOR} FillSignature",
        ),
        (
            "xor:predict",
            {"signature_name": False, "instances": [[0, 1]]},
            400,
            'JSON Value: {\n    "signature_name": false,\n    "instances": [[0, 1]]\n} not '
            "formatted correctly. 'signature_name' key must be a string value.",
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
            "JSON Value: 300 is outside the range of uint8 [0, 255]; TF Serving would silently "
            "use 44, modelzoo serve refuses it",
            f"deliberate difference: {JSON_TENSOR} AddValueToTensor DT_UINT8 takes any int32",
        ),
        (
            "cnn:predict",
            {"instances": [np.full((28, 28, 1), 0.5).tolist()]},
            400,
            ELEMENT_0 + "JSON Value: 0.5 Type: Number is not of expected type: uint8",
            f"{JSON_TENSOR} AddValueToTensor DT_UINT8: IsInt",
        ),
        (
            "cnn:predict",
            {"instances": [np.full((28, 28, 1), 1.0).tolist()]},
            400,
            ELEMENT_0 + "JSON Value: 1.0 Type: Number is not of expected type: uint8",
            f"{JSON_TENSOR} AddValueToTensor DT_UINT8: IsInt",
        ),
        (
            "cnn:predict",
            {"instances": [ROW[:27] + [[[True]] * 28]]},
            400,
            ELEMENT_0 + "JSON Value: true Type: True is not of expected type: uint8",
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
        (
            "nope:predict",
            "{bad",
            400,
            "JSON Parse error: Missing a name for object member. at offset: 1",
            f"{REST_HANDLER} ProcessPredictRequest: the body is parsed before the lookup",
        ),
        (
            "xor/versions/9:predict",
            {"instances": [[0, 1]]},
            404,
            "Servable not found for request: Specific(xor, 9)",
            REST_HANDLER,
        ),
        (
            "xor/labels/stable:predict",
            {"instances": [[0, 1]]},
            400,
            "Unrecognized servable version label: stable",
            "tensorflow_serving/model_servers/server_core.cc GetModelVersionForLabel",
        ),
        (
            "xor/versions/99999999999999999999:predict",
            {"instances": [[0, 1]]},
            400,
            "Failed to convert version: 99999999999999999999 to numeric.",
            "http_rest_api_handler_test.cc PredictModelNameVersionErrors",
        ),
        (
            "xor:predic",
            {"instances": [[0, 1]]},
            400,
            "Malformed request: POST /v1/models/xor:predic",
            "http_rest_api_handler_test.cc PredictModelNameVersionErrors",
        ),
        (
            "xor/versions/1/labels/a:predict",
            {"instances": [[0, 1]]},
            400,
            "Malformed request: POST /v1/models/xor/versions/1/labels/a:predict",
            "http_rest_api_handler_test.cc PredictModelNameVersionErrors",
        ),
        (
            "xor:classify",
            {"examples": []},
            501,
            "modelzoo serve does not implement :classify",
            f"deliberate difference: {REST_HANDLER} ProcessClassifyRequest",
        ),
        (
            "cnn:predict",
            {"instances": np.zeros((100, 28, 28, 1), int).tolist()},
            413,
            "request too large: 397815 bytes, the limit is 200000 (modelzoo serve --max-request-mb)",
            "the stand-in's --max-request-mb (TF Serving has no body limit of its own)",
        ),
    ],
)
def test_bad_requests_get_tf_serving_codes_and_the_server_stays_up(
    server, path, body, code, message, source
):
    response = post(server, path, body, raw=isinstance(body, (str, bytes)))
    assert response.status_code == code, response.text
    if code != 200:
        assert response.json()["error"].split("\n\t [[")[0] == message
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


def test_predictions_are_written_as_tf_serving_writes_them(server, zoo):
    """WriteDecimal and MakeRowFormatJsonFromTensors (tensorflow_serving/util/json_tensor.cc;
    json_tensor_test.cc FloatToJson...): six digits when they read back as the same float32,
    else nine; rapidjson's PrettyWriter layout with single-line rows."""
    _, models = zoo
    features = np.array([[0, 1], [1, 1]], "float32")
    expected = models["xor"](features).numpy().ravel()

    def text(x: np.float32) -> str:
        short = f"{x:g}"
        return short if np.float32(short) == x else f"{x:.9g}"

    rows = ", ".join(f"[{text(x)}]" for x in expected)
    answer = post(server, "xor:predict", {"instances": features.tolist()})
    assert answer.text == '{\n    "predictions": [' + rows + "\n    ]\n}"
    assert len(text(expected[0])) <= 11  # float32 digits, never float64's 17
    columns = post(server, "xor:predict", {"inputs": features.tolist()}).text
    assert columns.startswith('{\n    "outputs": [\n        [\n            ')


def test_status_and_metadata_errors(server):
    assert requests.get(f"{server.url}/v1/models/nope", timeout=10).status_code == 404
    assert (
        requests.get(f"{server.url}/v1/models/xor/versions/3", timeout=10).json()["error"]
        == "Could not find version 3 of model xor"
    )
    assert requests.get(f"{server.url}/v1/models/nope/metadata", timeout=10).status_code == 404
    # http_rest_api_handler_test.cc PredictModelNameVersionErrors: any other /v1/ path is a 400
    answer = requests.get(f"{server.url}/v1/models/xor:predict", timeout=10)
    assert answer.status_code == 400
    assert answer.json() == {"error": "Malformed request: GET /v1/models/xor:predict"}


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
    import time

    model, first = publish(tmp_path, "two_layer_perceptron", "xor", seed=0)
    expected = model(np.array([[0, 1]], "float32")).numpy().tolist()
    real_run = serving.Servable.predict

    def slow_run(self, *args, **kwargs):
        time.sleep(0.02)
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(serving.Servable, "predict", slow_run)
    server = serving.Server(tmp_path, port=0, poll_seconds=0.1)
    server.start_background()
    stop, failures, answered = threading.Event(), [], [0]

    def client():
        with requests.Session() as session:
            while not stop.is_set():
                response = session.post(
                    f"{server.url}/v1/models/xor:predict", json={"instances": [[0, 1]]}, timeout=30
                )
                if response.status_code != 200 or not np.array_equal(
                    np.float32(response.json()["predictions"]), np.float32(expected)
                ):
                    failures.append(f"{response.status_code}: {response.text[:200]}")
                answered[0] += 1

    threads = [threading.Thread(target=client) for _ in range(6)]
    try:
        for thread in threads:
            thread.start()
        for version in range(2, 7):
            publish_copy(tmp_path / "xor", first, version)
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
