"""Every export format answers as the Keras model does, checked in its own runtime before publishing.

Parity runs in a fresh process (`modelzoo.parity`): ONNX in onnxruntime and LiteRT in its
interpreter must match Keras within 1e-5 on the recorded samples, for every zoo model; int8
is judged by test accuracy (integration, on the real MNIST test split). A converter output
that answers differently (a tampered ONNX weight) or an int8 model that lost accuracy is
caught and nothing is published.
"""

import json

import numpy as np
import pytest

import modelzoo
from modelzoo import export, exporters, onnx_export, parity, storage
from modelzoo.registry import list_models

pytestmark = pytest.mark.slow


def samples_for(model, count=6, seed=0):
    spec = model.inputs[0]
    rng = np.random.default_rng(seed)
    if spec.dtype == "uint8":
        return rng.integers(0, 256, size=(count, *spec.shape[1:])).astype("uint8")
    return rng.normal(size=(count, *spec.shape[1:])).astype(spec.dtype)


@pytest.mark.parametrize("model_name", list_models())
def test_every_model_publishes_onnx_and_litert_that_match_keras(tmp_path, model_name):
    model = modelzoo.create_model(model_name, seed=1)
    samples = samples_for(model)
    version = export.publish(
        model, tmp_path, "m", {}, samples, formats=("savedmodel", "onnx", "litert")
    )
    card = storage.read_card(version)
    formats = storage.formats_folder(version)
    assert sorted(p.name for p in formats.iterdir()) == [
        "model.onnx",
        "model.tflite",
        "verification.npz",
    ]
    expected = model.predict(samples, verbose=0)
    output = model.layers[-1].name
    from modelzoo.runtimes import open_runtime

    for name in ("onnx", "litert"):
        record = card["formats"][name]
        assert record["max_abs_diff"] <= parity.TOLERANCE == record["tolerance"]
        assert record["bytes"] == (formats / record["file"]).stat().st_size
        runtime = open_runtime(name, formats / record["file"])
        assert runtime.input_names == [model.inputs[0].name] and runtime.output_names == [output]
        answer = runtime.run({model.inputs[0].name: samples})[output]
        np.testing.assert_allclose(answer, expected, atol=parity.TOLERANCE)


def test_a_tampered_onnx_weight_is_caught_and_nothing_is_published(tmp_path, monkeypatch):
    import onnx
    from onnx import numpy_helper

    write = onnx_export.write

    def write_then_tamper(model, folder, context):
        write(model, folder, context)
        graph = onnx.load(str(folder / onnx_export.FILE))
        weight = next(  # a kernel: float32 and large, not a shape or a bias
            w
            for w in graph.graph.initializer
            if numpy_helper.to_array(w).dtype == np.float32 and numpy_helper.to_array(w).size > 100
        )
        changed = numpy_helper.to_array(weight).copy()
        changed.flat[0] += 0.5
        weight.CopyFrom(numpy_helper.from_array(changed, weight.name))
        onnx.save(graph, str(folder / onnx_export.FILE))

    monkeypatch.setattr(
        exporters,
        "EXPORTERS",
        {
            **exporters.EXPORTERS,
            "onnx": exporters.Exporter(
                "onnx", write_then_tamper, onnx_export.check, onnx_export.FILE
            ),
        },
    )
    model = modelzoo.create_model("small_cnn", seed=0)
    with pytest.raises(
        parity.ParityError,
        match=r"onnx export \(model.onnx\) answers unlike the Keras model.*not published",
    ):
        export.publish(
            model, tmp_path, "cnn", {}, samples_for(model), formats=("savedmodel", "onnx")
        )
    assert not (tmp_path / "cnn").exists()  # no version, no staging, no empty folder left


def test_a_file_its_runtime_cannot_load_is_one_line(tmp_path):
    (tmp_path / "model.onnx").write_bytes(b"not a model")
    np.savez(tmp_path / "verification.npz", inputs=np.zeros((1, 2), "float32"))
    with pytest.raises(parity.ParityError) as caught:
        parity.check("onnx", tmp_path / "model.onnx", tmp_path / "verification.npz")
    message = str(caught.value)
    assert (
        "onnx export (model.onnx) does not load or run in its runtime" in message
        and "\n" not in message
    )


def test_the_run_prints_where_each_format_went(tmp_path):
    model = modelzoo.create_model("two_layer_perceptron", seed=0)
    version = export.publish(
        model, tmp_path, "xor", {}, samples_for(model), formats=("savedmodel", "litert")
    )
    (line,) = exporters.describe_formats(version)
    assert line.startswith(f"litert: {tmp_path / 'xor' / 'formats' / '1' / 'model.tflite'} (")
    assert "matches Keras within" in line and "ai-edge-litert" in line


@pytest.mark.integration
def test_int8_keeps_the_accuracy_and_a_miscalibrated_one_is_refused(tmp_path):
    from modelzoo import data

    splits = data.load("mnist", batch_size=256, max_examples=2000)
    formats = ("savedmodel", "litert-int8")
    inputs = exporters.data_for_formats(formats, splits)
    assert len(inputs["calibration"]) == 500 and len(inputs["evaluation"][0]) == 2000
    model = modelzoo.create_model("small_cnn", weights="mnist")
    samples = inputs["calibration"][:4]
    version = export.publish(model, tmp_path, "cnn", {}, samples, formats=formats, **inputs)
    record = storage.read_card(version)["formats"]["litert-int8"]
    assert record["examples"] == 2000 and record["calibration_examples"] == 500
    assert record["float_accuracy"] - record["accuracy"] <= 0.005
    assert record["bytes"] == (storage.formats_folder(version) / "model.int8.tflite").stat().st_size
    float_bytes = storage.read_card(version)["formats"]["savedmodel"]["bytes"]
    assert record["bytes"] < float_bytes / 3  # int8 weights: about a quarter of float32's

    # calibrated on blank images, the activation ranges are wrong and the accuracy collapses
    blank = {**inputs, "calibration": np.zeros_like(inputs["calibration"])}
    with pytest.raises(
        parity.ParityError,
        match=r"litert-int8 export \(model.int8.tflite\): test accuracy .* pp below the float",
    ):
        export.publish(model, tmp_path, "cnn", {}, samples, formats=formats, **blank)
    assert storage.version_numbers(tmp_path / "cnn") == [1]
    assert json.loads(storage.card_path(version).read_text())["formats"]["litert-int8"] == record
