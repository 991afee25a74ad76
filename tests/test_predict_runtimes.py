"""`modelzoo predict --runtime`: a local export's ONNX and LiteRT files answer as its SavedModel
does, without TensorFlow; the default is the fastest runtime the version has; mistakes are one line.

The fast tests use stand-in export folders (the files' names are what `choose_runtime` reads);
the slow ones publish real exports of zoo models in every format.
"""

import json
import sys

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from modelzoo import predict, runtimes, storage
from modelzoo.cli import cli


def stand_in(root, formats=()):
    """`root`/m/1 with a stand-in saved_model.pb and stand-in files for `formats` beside it."""
    version = root / "m" / "1"
    version.mkdir(parents=True)
    (version / storage.SAVED_MODEL_FILE).write_text("stand-in")
    files = {"onnx": "model.onnx", "litert": "model.tflite", "litert-int8": "model.int8.tflite"}
    if formats:
        storage.formats_folder(version).mkdir(parents=True)
    for name in formats:
        (storage.formats_folder(version) / files[name]).write_text("not a model")
    return version


def one_line(result, code, message):
    assert result.exit_code == code, result.output
    assert message in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_another_signature_runs_in_the_saved_model_by_default(tmp_path, monkeypatch):
    version = stand_in(tmp_path, ("onnx", "litert"))
    calls = []
    monkeypatch.setattr(predict, "predict_local", lambda path, *args: calls.append(path) or [])
    assert predict.predict_export(str(version), [], None, signature_name="other") == []
    assert calls == [str(version)]  # not litert, which holds serving_default only


def test_the_default_is_litert_then_onnx_then_the_saved_model(tmp_path, monkeypatch):
    every = stand_in(tmp_path / "a", ("onnx", "litert", "litert-int8"))
    assert predict.choose_runtime(every.parent) == (every, "litert")
    assert predict.choose_runtime(every, "onnx") == (every, "onnx")
    onnx_only = stand_in(tmp_path / "b", ("onnx", "litert-int8"))
    assert predict.choose_runtime(onnx_only.parent) == (onnx_only, "onnx")  # int8 never unasked
    bare = stand_in(tmp_path / "c")
    assert predict.choose_runtime(bare.parent) == (bare, "savedmodel")
    monkeypatch.setattr(runtimes, "installed", lambda name: name == "onnx")
    assert predict.choose_runtime(every.parent) == (every, "onnx")  # LiteRT not installed
    monkeypatch.setattr(runtimes, "installed", lambda name: False)
    assert predict.choose_runtime(every.parent) == (every, "savedmodel")


def test_a_runtime_the_version_lacks_names_what_it_has_and_how_to_make_it(tmp_path):
    version = stand_in(tmp_path, ("litert",))
    result = CliRunner().invoke(cli, ["predict", "--runtime", "onnx", str(version), "x.png"])
    one_line(result, 2, f"{version} has no onnx export, only savedmodel, litert")
    assert "--format onnx" in result.output and "modelzoo export" in result.output


def test_a_runtime_not_installed_says_how_to_install_it(tmp_path, monkeypatch):
    version = stand_in(tmp_path, ("onnx", "litert"))
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # `import onnxruntime` fails
    result = CliRunner().invoke(cli, ["predict", "--runtime", "onnx", str(version), "x.png"])
    one_line(
        result, 2, 'the onnx runtime is not installed (onnxruntime): pip install "modelzoo[onnx]"'
    )
    assert not runtimes.installed("onnx") and runtimes.installed("litert")


@pytest.mark.parametrize(
    "runtime, message",
    [
        ("onnx", "model.onnx: the onnx runtime cannot load it"),
        ("litert", "model.tflite: the litert runtime cannot load it"),
    ],
)
def test_a_damaged_export_file_is_one_line(tmp_path, runtime, message):
    version = stand_in(tmp_path, (runtime,))
    result = CliRunner().invoke(cli, ["predict", "--runtime", runtime, str(version), "x.png"])
    one_line(result, 1, message)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--runtime", "onnx", "--url", "http://localhost:8501", "--model", "m", "x.png"],
            "--runtime chooses what runs a local export; a server (--url, --grpc) runs its own",
        ),
        (
            ["--runtime", "onnx", "small_cnn:mnist", "x.png"],
            "shipped weights (small_cnn:mnist) run in Keras",
        ),
        (["--runtime", "onnx", "{root}/nowhere", "x.png"], "neither a SavedModel folder"),
    ],
)
def test_runtime_mistakes_are_one_line(tmp_path, args, message):
    result = CliRunner().invoke(cli, ["predict", *[a.format(root=tmp_path) for a in args]])
    one_line(result, 2, message)


# --- Real exports in every format --------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """(export dir, digit image files): `small_cnn` with its shipped MNIST weights in every
    format (int8 calibrated and judged on the held-out digits' dev split), and `xor` (seed 0,
    features -> probability) as ONNX and LiteRT."""
    import modelzoo
    from modelzoo import export
    from modelzoo.datasets import wild_digits
    from modelzoo.inputs import grayscale_to_input
    from modelzoo.registry import TensorSpec

    root = tmp_path_factory.mktemp("saved_models")
    spec = TensorSpec("image", (None, 28, 28, 1), "uint8")
    images, labels, _ = wild_digits.load("dev")
    inputs = np.stack([grayscale_to_input(image, spec) for image in images])
    cnn = modelzoo.create_model("small_cnn", weights="mnist")
    export.publish(
        cnn,
        root,
        "cnn",
        {"name": "cnn"},
        inputs[:8],
        formats=("savedmodel", "onnx", "litert", "litert-int8"),
        calibration=inputs[500:],
        evaluation=(inputs[:500], labels[:500]),
    )
    xor = modelzoo.create_model("two_layer_perceptron", seed=0)
    rows = np.asarray([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    export.publish(
        xor, root, "xor", {"name": "xor"}, rows, formats=("savedmodel", "onnx", "litert")
    )
    test_images, _, _ = wild_digits.load("test")
    folder = tmp_path_factory.mktemp("digits")
    files = []
    for index in range(4):
        files.append(str(folder / f"digit{index}.png"))
        Image.fromarray(test_images[index]).save(files[-1])
    return root, files


def answers(*args):
    result = CliRunner().invoke(cli, ["predict", "--json", "--top", "10", *map(str, args)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.mark.slow
def test_every_runtime_answers_as_the_saved_model(exported):
    root, files = exported
    reference = answers("--runtime", "savedmodel", root / "cnn", *files)
    for runtime, tolerance in (("onnx", 1e-5), ("litert", 1e-5), ("litert-int8", 0.05)):
        got = answers("--runtime", runtime, root / "cnn", *files)
        assert [a["input"] for a in got] == files
        for mine, theirs in zip(got, reference):
            assert mine["top"][0]["class"] == theirs["top"][0]["class"], runtime
            np.testing.assert_allclose(
                mine["outputs"]["probabilities"], theirs["outputs"]["probabilities"], atol=tolerance
            )
            if tolerance < 1e-3:  # the float formats: the same summary line, every class in order
                assert mine["summary"] == theirs["summary"], runtime
    assert answers(root / "cnn", *files) == answers("--runtime", "litert", root / "cnn", *files)


@pytest.mark.slow
def test_rows_run_in_every_runtime_as_in_the_saved_model(exported, tmp_path):
    root, _ = exported
    (tmp_path / "rows.csv").write_text("x1,x2\n0,0\n0,1\n1,0\n1,1\n")
    reference = answers("--runtime", "savedmodel", root / "xor", "--input", tmp_path / "rows.csv")
    for runtime in ("onnx", "litert"):
        got = answers("--runtime", runtime, root / "xor", "--input", tmp_path / "rows.csv")
        assert [a["summary"] for a in got] == [a["summary"] for a in reference]
        np.testing.assert_allclose(
            [a["outputs"]["probability"] for a in got],
            [a["outputs"]["probability"] for a in reference],
            atol=1e-5,
        )


@pytest.mark.slow
def test_the_print_request_body_is_the_same_through_every_runtime(exported):
    root, files = exported
    bodies = {
        runtime: CliRunner().invoke(
            cli, ["predict", "--runtime", runtime, str(root / "cnn"), "--print-request", files[0]]
        )
        for runtime in ("savedmodel", "onnx", "litert")
    }
    assert all(b.exit_code == 0 for b in bodies.values()), bodies
    assert len({b.output for b in bodies.values()}) == 1


NO_TENSORFLOW = """
import sys
from modelzoo.cli import cli

for runtime in sys.argv[1].split(","):
    try:
        cli(["predict", "--runtime", runtime, *sys.argv[2:]], standalone_mode=False)
    finally:
        loaded = sorted(
            {m.split(".")[0] for m in sys.modules} & {"tensorflow", "keras", "tf_keras"}
        )
        print(f"{runtime} loaded {loaded}")
"""


@pytest.mark.slow
def test_onnx_and_litert_never_import_tensorflow_or_keras(exported, tmp_path):
    import subprocess

    root, files = exported
    script = tmp_path / "no_tensorflow.py"
    script.write_text(NO_TENSORFLOW)
    done = subprocess.run(
        [sys.executable, str(script), "onnx,litert,litert-int8", str(root / "cnn"), *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for runtime in ("onnx", "litert", "litert-int8"):
        assert f"{runtime} loaded []" in lines
    # the answers are real: each run printed a line per file, and they name a class
    assert sum(line.startswith(files[0] + ": ") for line in lines) == 3
    assert done.stderr == ""  # LiteRT's "INFO: Created ... XNNPACK delegate" is not shown
