"""Version labels and version policies from a models.config, over REST and gRPC; a version switch
under concurrent gRPC load; TF Serving's REST path rules."""

import threading
import time

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from click.testing import CliRunner
from conftest import publish, publish_copy
from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

from modelzoo import serving
from modelzoo.cli import cli
from modelzoo.errors import ModelzooError

pytestmark = pytest.mark.slow

SERVER_CORE = "tensorflow_serving/model_servers/server_core.cc"
REST_UTIL = "tensorflow_serving/model_servers/http_rest_api_util.cc"


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """xor versions 1 and 2, served from a models.config keeping both, labelled stable=1, canary=2."""
    root = tmp_path_factory.mktemp("labelled")
    first, _ = publish(root, "two_layer_perceptron", "xor", seed=0)
    second, _ = publish(root, "two_layer_perceptron", "xor", seed=1)
    result = CliRunner().invoke(
        cli,
        ["serving-config", str(root), "--keep-versions", "2"]
        + ["--label", "stable=1", "--label", "xor:canary=2"],
    )
    assert result.exit_code == 0, result.output
    config = root / "models.config"
    config.write_text(result.output)
    server = serving.Server(
        root, port=0, grpc_port=0, model_config=serving.read_model_config(config)
    )
    server.start_background()
    yield server, {1: first, 2: second}, result.output
    server.shutdown()


def predict(server, route, rows):
    return requests.post(
        f"{server.url}/v1/models/{route}:predict", json={"instances": rows}, timeout=30
    )


def test_serving_config_writes_labels_tf_serving_reads(labelled):
    _, _, text = labelled
    assert 'version_labels {\n      key: "stable"\n      value: 1\n    }' in text
    assert "num_versions: 2" in text


def test_labels_resolve_to_their_versions_over_rest_and_grpc(labelled):
    """ServableRequestFromModelSpec (server_core.cc): a label is Specific(name, its version);
    http_rest_api_handler_test.cc Predict / GetStatus / GetModelMetadata use /labels/ routes."""
    server, models, _ = labelled
    features = np.array([[0, 1]], "float32")
    for label, version in (("stable", 1), ("canary", 2)):
        expected = np.float32(models[version](features).numpy())
        answer = predict(server, f"xor/labels/{label}", features.tolist())
        assert answer.status_code == 200, answer.text
        np.testing.assert_array_equal(np.float32(answer.json()["predictions"]), expected)
        metadata = requests.get(f"{server.url}/v1/models/xor/labels/{label}/metadata", timeout=10)
        assert metadata.json()["model_spec"]["version"] == str(version)
        request = predict_pb2.PredictRequest()
        request.model_spec.name, request.model_spec.version_label = "xor", label
        request.inputs["features"].CopyFrom(tf.make_tensor_proto(features))
        with grpc.insecure_channel(server.grpc_target) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            response = stub.Predict(request, timeout=30)
        assert response.model_spec.version.value == version
        np.testing.assert_array_equal(tf.make_ndarray(response.outputs["probability"]), expected)
    # the newest version without a label; both served (latest num_versions: 2)
    assert predict(server, "xor", features.tolist()).json() == (
        predict(server, "xor/versions/2", features.tolist()).json()
    )
    # GetModelStatusWithModelSpec (get_model_status_impl.cc) ignores the label: every version
    status = requests.get(f"{server.url}/v1/models/xor/labels/stable", timeout=10).json()
    assert [s["version"] for s in status["model_version_status"]] == ["2", "1"]
    unknown = predict(server, "xor/labels/beta", features.tolist())
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "Unrecognized servable version label: beta"}


@pytest.mark.parametrize(
    "method, path, code, error",
    [
        # (?i) in kPredictionApiGegex: paths match in any case, the model name is looked up as is
        ("POST", "/V1/Models/xor/Labels/stable:predict", 200, None),
        ("POST", "/v1/models/XOR:predict", 404, "Servable not found for request: Latest(XOR)"),
        # the verb is compared case-sensitively after the match (ProcessRequest)
        ("POST", "/v1/models/xor:PREDICT", 400, "Malformed request: POST /v1/models/xor:PREDICT"),
        ("POST", "/v1/models/xor/metadata", 400, "Malformed request: POST /v1/models/xor/metadata"),
        (
            "GET",
            "/v1/models/xor/label/stable",
            400,
            "Malformed request: GET /v1/models/xor/label/stable",
        ),
        ("GET", "/v1/foo", 400, "Malformed request: GET /v1/foo"),
        ("DELETE", "/v1/models/xor", 400, "Malformed request: DELETE /v1/models/xor"),
        ("GET", "/v1/models", 400, "Missing model name in request."),
        ("GET", "/v1/models/x%6Fr", 200, None),  # DecodeArg unescapes the name
    ],
)
def test_paths_follow_tf_serving_s_regexes(labelled, method, path, code, error):
    """http_rest_api_handler_test.cc PredictModelNameVersionErrors; the regexes of REST_UTIL."""
    server, _, _ = labelled
    body = '{"instances": [[0, 1]]}' if method == "POST" else None
    answer = requests.request(method, server.url + path, data=body, timeout=30)
    assert answer.status_code == code, answer.text
    if error is not None:
        assert answer.json() == {"error": error}


def test_a_label_on_a_version_not_served_stops_the_start(tmp_path):
    """UpdateModelVersionLabelMap (server_core.cc): FailedPrecondition, the server does not start."""
    publish(tmp_path, "two_layer_perceptron", "xor", seed=0)
    policy = serving.ModelPolicy(labels={"stable": 7})
    with pytest.raises(ModelzooError) as error:
        serving.Server(tmp_path, port=0, grpc_port=None, model_config={"xor": policy})
    assert str(error.value) == (
        "Request to assign label to version 7 of model xor, which is not currently available "
        "for inference"
    )
    result = CliRunner().invoke(cli, ["serving-config", str(tmp_path), "--label", "stable=7"])
    assert result.exit_code != 0 and "version 7 of xor is not served" in result.output


def test_a_version_switch_under_concurrent_grpc_load_fails_no_request(tmp_path):
    """Four gRPC clients predict while versions 2 and 3 are published: every answer is OK and
    comes from a served version (the REST twin: tests/test_serving.py
    test_versions_published_under_load_fail_no_request). TF Serving unloads a version only once
    no ServableHandle holds it (tensorflow_serving/core/servable_handle.h)."""

    model, first = publish(tmp_path, "two_layer_perceptron", "xor", seed=0)
    features = np.array([[0, 1]], "float32")
    expected = np.float32(model(features).numpy())
    server = serving.Server(tmp_path, port=0, poll_seconds=0.1, grpc_port=0)
    server.start_background()
    stop, failures, versions = threading.Event(), [], set()
    request = predict_pb2.PredictRequest()
    request.model_spec.name = "xor"
    request.inputs["features"].CopyFrom(tf.make_tensor_proto(features))

    def client():
        with grpc.insecure_channel(server.grpc_target) as channel:
            stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
            for _ in range(2000):  # bounded; the switch below ends it far sooner
                if stop.is_set():
                    return
                try:
                    response = stub.Predict(request, timeout=30)
                except grpc.RpcError as error:
                    failures.append(f"{error.code()}: {error.details()}")
                    continue
                versions.add(response.model_spec.version.value)
                if not np.array_equal(tf.make_ndarray(response.outputs["probability"]), expected):
                    failures.append("a wrong answer")

    threads = [threading.Thread(target=client) for _ in range(4)]
    try:
        for thread in threads:
            thread.start()
        for version in (2, 3):
            publish_copy(tmp_path / "xor", first, version)
            deadline = time.monotonic() + 30
            while server.repository.models().get("xor") != version:
                assert time.monotonic() < deadline, f"version {version} never served"
                time.sleep(0.05)
            time.sleep(0.3)  # requests run on the new version before the next switch
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        server.shutdown()
    assert failures == [] and versions == {1, 2, 3}
    assert server.repository._leases == {} and server.repository._retired == set()
