"""`modelzoo serve`'s gRPC API through TF Serving's official stubs: Predict, metadata, status, errors."""

import json
import threading

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from click.testing import CliRunner
from PIL import Image
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from modelzoo import serving
from modelzoo.cli import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(zoo):
    root, _ = zoo
    server = serving.Server(root, port=0, poll_seconds=0.2, grpc_port=0)
    server.start_background()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def channel(server):
    with grpc.insecure_channel(server.grpc_target) as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(channel):
    return prediction_service_pb2_grpc.PredictionServiceStub(channel)


def predict_request(name, inputs, version=None, signature="", label=None):
    request = predict_pb2.PredictRequest()
    if name is not None:  # None: no ModelSpec at all
        request.model_spec.name = name
        request.model_spec.signature_name = signature
    if version is not None:
        request.model_spec.version.value = version
    if label is not None:
        request.model_spec.version_label = label
    for key, value in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(value))
    return request


IMAGES = np.random.default_rng(3).integers(0, 256, (5, 28, 28, 1)).astype("uint8")


def test_predict_equals_rest_and_the_model(server, stub, zoo):
    _, models = zoo
    response = stub.Predict(predict_request("cnn", {"image": IMAGES}), timeout=30)
    assert response.model_spec.name == "cnn" and response.model_spec.version.value == 1
    assert response.model_spec.signature_name == "serving_default"
    assert list(response.outputs) == ["probabilities"]
    answer = tf.make_ndarray(response.outputs["probabilities"])
    rest = requests.post(
        f"{server.url}/v1/models/cnn:predict", json={"instances": IMAGES.tolist()}, timeout=30
    ).json()["predictions"]
    np.testing.assert_allclose(answer, rest, atol=1e-6)
    np.testing.assert_allclose(answer, models["cnn"](IMAGES).numpy(), atol=1e-6)
    versioned = stub.Predict(predict_request("cnn", {"image": IMAGES[:2]}, version=1), timeout=30)
    np.testing.assert_allclose(
        tf.make_ndarray(versioned.outputs["probabilities"]), answer[:2], atol=1e-6
    )


def test_metadata_and_status(server, stub, channel):
    request = get_model_metadata_pb2.GetModelMetadataRequest()
    request.model_spec.name = "cnn"
    request.metadata_field.append("signature_def")
    response = stub.GetModelMetadata(request, timeout=30)
    assert response.model_spec.name == "cnn" and response.model_spec.version.value == 1
    signatures = get_model_metadata_pb2.SignatureDefMap()
    response.metadata["signature_def"].Unpack(signatures)
    default = signatures.signature_def["serving_default"]
    (image,) = default.inputs.values()
    assert list(default.inputs) == ["image"] and image.dtype == tf.uint8.as_datatype_enum
    assert [d.size for d in image.tensor_shape.dim] == [-1, 28, 28, 1]
    (probabilities,) = default.outputs.values()
    assert list(default.outputs) == ["probabilities"]
    assert probabilities.dtype == tf.float32.as_datatype_enum
    assert [d.size for d in probabilities.tensor_shape.dim] == [-1, 10]
    # the same signature as REST's /metadata, through the client's JSON form
    rest = requests.get(f"{server.url}/v1/models/cnn/metadata", timeout=10).json()
    assert serving.GrpcClient(server.grpc_target, "cnn").metadata() == rest

    models = model_service_pb2_grpc.ModelServiceStub(channel)
    status_request = get_model_status_pb2.GetModelStatusRequest()
    status_request.model_spec.name = "xor"
    (status,) = models.GetModelStatus(status_request, timeout=10).model_version_status
    assert status.version == 1 and status.state == get_model_status_pb2.ModelVersionStatus.AVAILABLE
    assert status.status.error_code == 0
    status_request.model_spec.name = "nope"
    with pytest.raises(grpc.RpcError) as error:
        models.GetModelStatus(status_request, timeout=10)
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


PREDICT_UTIL = "tensorflow_serving/servables/tensorflow/predict_util.cc"
SAVED_MODEL_UTIL = "tensorflow/cc/saved_model/util.cc GetInputValues"


# Each row: the request, TF Serving's status code and error text, the TF Serving source it follows.
@pytest.mark.parametrize(
    "name, inputs, version, signature, label, code, message, source",
    [
        (
            "nope",
            {"image": IMAGES},
            None,
            "",
            None,
            "NOT_FOUND",
            "Servable not found for request: Latest(nope)",
            "tensorflow_serving/core/basic_manager.cc",
        ),
        (
            "cnn",
            {"image": IMAGES},
            9,
            "",
            None,
            "NOT_FOUND",
            "Servable not found for request: Specific(cnn, 9)",
            "tensorflow_serving/core/basic_manager.cc",
        ),
        (
            None,
            {"image": IMAGES},
            None,
            "",
            None,
            "INVALID_ARGUMENT",
            "Missing ModelSpec",
            "tensorflow_serving/servables/tensorflow/predict_impl.cc",
        ),
        (
            "",
            {"image": IMAGES},
            None,
            "",
            None,
            "INVALID_ARGUMENT",
            "ModelSpec has no name specified.",
            "tensorflow_serving/model_servers/server_core.cc ServableRequestFromModelSpec",
        ),
        (
            "cnn",
            {"image": IMAGES},
            None,
            "",
            "stable",
            "INVALID_ARGUMENT",
            "Unrecognized servable version label: stable",
            "tensorflow_serving/model_servers/server_core.cc GetModelVersionForLabel",
        ),
        (
            "cnn",
            {"wrong": IMAGES},
            None,
            "",
            None,
            "INVALID_ARGUMENT",
            "Signature input alias: image(feed name: serving_default_image:0) not found in "
            "request and no default value provided. Inputs expected to be in the request {wrong}, "
            "or default input alias set: ",
            SAVED_MODEL_UTIL,
        ),
        (
            "cnn",
            {"image": IMAGES, "wrong": IMAGES},
            None,
            "",
            None,
            "INVALID_ARGUMENT",
            "input size does not match signature: 2!=1 len({image,wrong}) != len({image}). "
            "Sent extra: {wrong}. Missing but required: {}.",
            f"{PREDICT_UTIL} VerifyRequestInputsSize",
        ),
        (
            "cnn",
            {"image": IMAGES},
            None,
            "nope",
            None,
            "FAILED_PRECONDITION",
            'Serving signature key "nope" not found.',
            f"{PREDICT_UTIL} RunPredict",
        ),
    ],
)
def test_errors_have_tf_serving_status_codes(
    stub, name, inputs, version, signature, label, code, message, source
):
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(predict_request(name, inputs, version, signature, label), timeout=30)
    assert error.value.code() == getattr(grpc.StatusCode, code)
    assert error.value.details() == message


def test_wrong_dtypes_get_tensorflow_s_own_error_and_wrong_shapes_are_refused(stub):
    """predict_util.cc RunPredict passes the tensors to session->Run unchecked: a wrong dtype gets
    TensorFlow's own INVALID_ARGUMENT (from a C++ session callable, as in TF Serving). A shape the
    signature rules out is refused first: a deliberate difference, as some kernels abort the whole
    process on it (a convolution fed rank 3 did, in this test's first version)."""
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(predict_request("cnn", {"image": IMAGES.astype("float32")}), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "uint8" in error.value.details() and "Traceback" not in error.value.details()
    with pytest.raises(grpc.RpcError) as error:
        stub.Predict(predict_request("cnn", {"image": IMAGES[..., 0]}), timeout=30)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details() == (
        "input image: shape [5,28,28] where the signature takes [-1,28,28,1] (-1: any); "
        "TF Serving would run the model on it, modelzoo serve refuses it"
    )


def test_concurrent_requests_lose_nothing(stub, zoo):
    _, models = zoo
    features = np.random.default_rng(4).uniform(size=(160, 2)).astype("float32")
    expected = models["xor"](features).numpy()
    answers, errors = {}, []

    def worker(thread):
        for i in range(thread * 20, thread * 20 + 20):
            try:
                response = stub.Predict(
                    predict_request("xor", {"features": features[i : i + 1]}), timeout=30
                )
                answers[i] = tf.make_ndarray(response.outputs["probability"])[0]
            except grpc.RpcError as error:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and len(answers) == 160
    np.testing.assert_allclose([answers[i] for i in range(160)], expected, atol=1e-6)


def test_predict_command_through_grpc_equals_rest(server, tmp_path):
    digit = np.zeros((28, 28), np.uint8)
    digit[5:23, 12:16] = 255
    Image.fromarray(digit).save(tmp_path / "one.png")
    answers = {}
    for flag, address in (("--url", server.url), ("--grpc", server.grpc_target)):
        result = CliRunner().invoke(
            cli, ["predict", flag, address, "--model", "cnn", str(tmp_path / "one.png"), "--json"]
        )
        assert result.exit_code == 0, result.output
        answers[flag] = json.loads(result.output)[0]
    assert answers["--grpc"]["top"][0]["class"] == answers["--url"]["top"][0]["class"]
    np.testing.assert_allclose(
        answers["--grpc"]["outputs"]["probabilities"],
        answers["--url"]["outputs"]["probabilities"],
        atol=1e-6,
    )
    missing = CliRunner().invoke(
        cli, ["predict", "--grpc", server.grpc_target, "--model", "nope", str(tmp_path / "one.png")]
    )
    assert missing.exit_code != 0 and "NOT_FOUND" in missing.output
    assert "Traceback" not in missing.output


def test_a_busy_grpc_port_is_one_clear_error_and_flags_do_not_mix(tmp_path):
    import socket

    from modelzoo.errors import ModelzooError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ModelzooError, match=f"cannot listen for gRPC on 127.0.0.1:{port}"):
            serving.Server(tmp_path, port=0, grpc_port=port)
    both = CliRunner().invoke(
        cli, ["predict", "--url", "http://x", "--grpc", "x:1", "--model", "m", "a.png"]
    )
    assert both.exit_code == 2 and "not both" in both.output
