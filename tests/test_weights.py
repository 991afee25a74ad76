"""Shipped weights: the manifest against the files and recipes, loading, and refusing what cannot load."""

import hashlib
import json
import re

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import run_python

import modelzoo
from modelzoo import recipe_file as recipes
from modelzoo import weights as shipped
from modelzoo.cli import cli
from modelzoo.data import dataset_spec

ENTRIES = shipped.STORE.entries()
ARCHITECTURE = {"hidden_units": 3}


@pytest.fixture
def store(tmp_path, monkeypatch):
    """A store in tmp_path with one entry: two_layer_perceptron:toy, 3 hidden units, random weights."""
    model = modelzoo.create_model("two_layer_perceptron", **ARCHITECTURE, seed=5)
    file = shipped.file_name("two_layer_perceptron", "toy")
    model.save_weights(str(tmp_path / file))
    np.save(
        tmp_path / "toy.samples.npy", np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float32")
    )
    content = (tmp_path / file).read_bytes()
    entry = shipped.Weights(
        model="two_layer_perceptron",
        tag="toy",
        file=file,
        bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        model_args=ARCHITECTURE,
        parameters=model.count_params(),
        input={"name": "features", "dtype": "float32", "shape": [2]},
        output={"name": "probability", "dtype": "float32", "shape": [1]},
        recipe="xor",
        command="python -m modelzoo.recipes xor",
        data={"name": "xor", "sizes": {}, "source": "", "licence": ""},
        classes=("0", "1"),
        metrics={"test": {"accuracy": 0.75, "loss": 0.5}},
        epochs=1,
        trained={"date": "2026-01-01", "machine": "test", "versions": {}},
        recipe_settings={"export": {"name": "toy_xor"}},
        samples="toy.samples.npy",
    )
    store = shipped.Store(tmp_path)
    store.write([entry])
    monkeypatch.setattr(shipped, "STORE", store)
    return store, model


def test_loading_a_tag_gives_the_saved_model(store):
    _, saved = store
    batch = np.array([[0, 0], [0, 1], [1, 1]], dtype="float32")
    loaded = modelzoo.create_model("two_layer_perceptron", weights="toy")
    assert loaded.get_layer("hidden").units == 3, "built with the architecture the weights need"
    np.testing.assert_array_equal(np.asarray(loaded(batch)), np.asarray(saved(batch)))
    again = modelzoo.create_model(
        "two_layer_perceptron", weights="toy", hidden_units=3, seed=1, l2=0.1
    )
    np.testing.assert_array_equal(np.asarray(again(batch)), np.asarray(saved(batch)))


def test_cards_and_listing_show_the_weights(store):
    assert modelzoo.list_models(pretrained=True) == ["two_layer_perceptron"]
    (entry,) = modelzoo.model_card("two_layer_perceptron").weights
    assert entry.tag == "toy" and entry.headline == ("accuracy", 0.75)
    assert modelzoo.model_card("small_cnn").weights == ()
    assert (
        modelzoo.model_card("two_layer_perceptron").to_dict()["weights"][0]["sha256"]
        == entry.sha256
    )


def test_a_tampered_file_is_refused(store):
    folder = store[0].folder
    path = folder / shipped.file_name("two_layer_perceptron", "toy")
    content = bytearray(path.read_bytes())
    content[-100] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(
        ValueError,
        match=r"two_layer_perceptron: weights 'toy': the file .* has sha256 .*the manifest records",
    ):
        modelzoo.create_model("two_layer_perceptron", weights="toy")


@pytest.mark.parametrize(
    "model, weights, overrides, message",
    [
        (
            "two_layer_perceptron",
            "tyo",
            {},
            r"two_layer_perceptron: weights 'tyo' do not ship \(did you mean 'toy'\?\); its weights: toy",
        ),
        (
            "small_cnn",
            "mnist",
            {},
            r"small_cnn: weights 'mnist' do not ship; none ship for small_cnn \(models with "
            r"weights: two_layer_perceptron\)",
        ),
        (
            "two_layer_perceptron",
            "toy",
            {"hidden_units": 4},
            r"weights 'toy' were trained with hidden_units=3; hidden_units=4 changes the architecture",
        ),
        (
            "two_layer_perceptron",
            "toy",
            {"activation": "relu"},
            r"activation='relu' changes the architecture",
        ),
        (
            "two_layer_perceptron",
            "nope.weights.h5",
            {},
            r"weights file nope.weights.h5 does not exist",
        ),
        ("two_layer_perceptron", "model.h5", {}, r"must end in .weights.h5"),
        ("two_layer_perceptron", "", {}, r"weights must be a shipped tag"),
        ("two_layer_perceptron", "toy", {"hidden_unit": 3}, r"unknown argument 'hidden_unit'"),
    ],
)
def test_wrong_weights_are_one_line_before_anything_is_built(
    store, model, weights, overrides, message
):
    with pytest.raises(modelzoo.UsageError, match=message) as error:
        modelzoo.create_model(model, weights=weights, **overrides)
    assert "\n" not in str(error.value)


def test_refusals_come_before_tensorflow_loads():
    result = run_python(
        "import sys, modelzoo\n"
        "for kwargs in [{'weights': 'mnsit'}, {'weights': 'x.weights.h5'}]:\n"
        "    try:\n"
        "        modelzoo.create_model('small_cnn', **kwargs)\n"
        "    except ValueError as error:\n"
        "        print(error)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and lines[-1] == "False", lines


def test_a_users_weights_file_loads_and_a_misfit_is_one_line(store, tmp_path):
    _, saved = store
    path = tmp_path / "mine.weights.h5"
    saved.save_weights(str(path))
    loaded = modelzoo.create_model("two_layer_perceptron", weights=str(path), hidden_units=3)
    batch = np.ones((2, 2), dtype="float32")
    np.testing.assert_array_equal(np.asarray(loaded(batch)), np.asarray(saved(batch)))
    with pytest.raises(
        modelzoo.UsageError,
        match=r"^two_layer_perceptron: weights file .*mine.weights.h5 does not fit",
    ) as error:
        modelzoo.create_model("two_layer_perceptron", weights=str(path), hidden_units=5)
    assert "\n" not in str(error.value)


@pytest.mark.slow  # exports a model
def test_export_publishes_a_verified_version_that_answers_like_the_model(store, tmp_path):
    from modelzoo import serving, verify

    result = CliRunner().invoke(
        cli,
        [
            "export",
            "two_layer_perceptron",
            "--weights",
            "toy",
            "--export-dir",
            str(tmp_path / "out"),
        ],
    )
    assert result.exit_code == 0, result.output
    version = tmp_path / "out" / "toy_xor" / "1"
    assert str(version) in result.output
    assert all(check.ok for check in verify.verify(version))
    card = json.loads((version / "assets.extra" / "model_card.json").read_text())
    assert (
        card["weights"]["tag"] == "toy"
        and card["weights"]["sha256"] == shipped.STORE.entries()[0].sha256
    )
    samples = shipped.STORE.samples(shipped.STORE.entries()[0])
    servable = serving.load_local(version)
    try:
        served = servable.run({"features": samples})["probability"]
    finally:
        servable.close()
    expected = modelzoo.create_model("two_layer_perceptron", weights="toy")(samples)
    np.testing.assert_allclose(served, np.asarray(expected), atol=1e-6)


def test_export_mistakes_are_one_line(store, tmp_path):
    for args, message in [
        (["export", "small_cnn", "--weights", "mnsit"], "small_cnn: weights 'mnsit' do not ship"),
        (
            ["export", "two_layer_perceptron", "--weights", "toy", "--name", ".."],
            "--name '..': must be a folder name",
        ),
        (["export", "smal_cnn", "--weights", "mnist"], "did you mean 'small_cnn'"),
    ]:
        result = CliRunner().invoke(cli, [*args, "--export-dir", str(tmp_path / "out")])
        assert (
            result.exit_code == 2 and message in result.output and result.output.count("\n") == 1
        ), result.output
    assert not (tmp_path / "out").exists()


def test_list_and_show_print_the_weights(store):
    result = CliRunner().invoke(cli, ["list"])
    (row,) = [
        line for line in result.output.splitlines() if line.startswith("two_layer_perceptron ")
    ]
    assert row.endswith("toy (75.00%)")
    result = CliRunner().invoke(cli, ["show", "two_layer_perceptron"])
    assert "weights 'toy':" in result.output and re.search(r"test: +accuracy 75.00%", result.output)
    assert "features float32[2] -> probability float32[1], 13 parameters" in result.output


def test_predict_runs_shipped_weights_on_rows(store, tmp_path):
    rows = tmp_path / "rows.json"
    rows.write_text("[[0, 1], [1, 1]]")
    result = CliRunner().invoke(
        cli, ["predict", "two_layer_perceptron:toy", "--input", str(rows), "--json"]
    )
    assert result.exit_code == 0, result.output
    answers = json.loads(result.output)
    expected = np.asarray(
        modelzoo.create_model("two_layer_perceptron", weights="toy")(
            np.array([[0, 1], [1, 1]], "float32")
        )
    )
    np.testing.assert_allclose(
        [a["outputs"]["probability"][0] for a in answers], expected[:, 0], rtol=1e-6
    )
    for name, message in [
        ("two_layer_perceptron:tyo", "did you mean 'toy'"),
        ("two_layer_perceptrn:toy", "did you mean 'two_layer_perceptron'"),
    ]:
        result = CliRunner().invoke(cli, ["predict", name, "--input", str(rows)])
        assert (
            result.exit_code == 2 and message in result.output and result.output.count("\n") == 1
        ), result.output


# The shipped manifest, entry by entry: the metadata can never drift from the files and recipes.


@pytest.mark.parametrize("entry", ENTRIES, ids=[w.key for w in ENTRIES])
def test_shipped_entry_matches_its_file_recipe_and_data(entry):
    import h5py

    content = (shipped.STORE.folder / entry.file).read_bytes()
    assert (len(content), hashlib.sha256(content).hexdigest()) == (entry.bytes, entry.sha256)
    with h5py.File(shipped.STORE.folder / entry.file) as weights_file:
        assert "optimizer" not in weights_file, (
            "the model's weights only, not the optimizer's state"
        )
    recipe = recipes.load(entry.recipe)
    assert (recipe.model, recipe.tag) == (entry.model, entry.tag)
    assert entry.model_args == json.loads(json.dumps(recipe.architecture))
    assert entry.recipe_settings == {k: v for k, v in recipe.to_dict().items() if k != "source"}
    spec = dataset_spec(recipe.data)
    assert entry.classes == spec.class_names and entry.data["licence"] == spec.licence
    assert entry.data["name"] == recipe.data and set(entry.data["sizes"]) == {
        "train",
        "dev",
        "test",
    }
    assert entry.command == f"python -m modelzoo.recipes {entry.recipe}"
    assert {"dev", "test"} <= set(entry.metrics) and entry.epochs >= 1
    assert {"date", "machine", "versions"} <= set(entry.trained)
    if "precision" in entry.trained:  # recorded since the publish after "auto" came
        assert entry.trained["precision"] in {"float32", "mixed_bfloat16"}
        assert recipe.train.precision in {"auto", entry.trained["precision"]}
    if "cpu_kernels" in entry.trained:  # recorded since the commands ask for oneDNN's
        assert entry.trained["cpu_kernels"] in {"oneDNN", "Eigen"}
    model = modelzoo.create_model(entry.model, weights=entry.tag)
    assert model.count_params() == entry.parameters
    assert entry.input == {
        "name": model.inputs[0].name,
        "dtype": str(model.inputs[0].dtype),
        "shape": list(model.inputs[0].shape[1:]),
    }
    assert entry.output == {
        "name": model.layers[-1].name,
        "dtype": str(model.outputs[0].dtype),
        "shape": list(model.outputs[0].shape[1:]),
    }
    samples = shipped.STORE.samples(entry)
    assert (
        samples.shape[1:] == tuple(entry.input["shape"])
        and str(samples.dtype) == entry.input["dtype"]
    )


def test_every_builtin_recipe_ships_its_weights():
    assert sorted(w.recipe for w in ENTRIES) == recipes.builtin_names()
    assert len({w.key for w in ENTRIES}) == len(ENTRIES)


def test_shipped_weights_keep_the_hidden_activation_they_were_trained_with():
    model = modelzoo.create_model("deep_relu_mlp", weights="pima_diabetes", activation="relu")
    assert [layer.activation.__name__ for layer in model.layers if hasattr(layer, "kernel")] == [
        "relu",
        "relu",
        "sigmoid",
    ]
    with pytest.raises(
        modelzoo.UsageError,
        match=r"were trained with activation='relu'; activation='sigmoid' changes the architecture",
    ):
        modelzoo.create_model("deep_relu_mlp", weights="pima_diabetes", activation="sigmoid")


@pytest.mark.slow  # trains and exports a model
def test_a_recipe_fine_tunes_from_shipped_weights(store, tmp_path):
    from modelzoo import recipe_model, run_folder, training

    _, saved = store
    recipe = recipes.load(
        "xor",
        {
            "model.weights": "toy",
            "model.hidden_units": 3,
            "train.epochs": 1,
            "train.learning_rate": 1e-9,
        },
    )
    result = training.run(
        recipe, runs_root=tmp_path / "runs", export_dir=tmp_path / "out", echo=lambda *_: None
    )
    for started, trained in zip(
        saved.get_weights(), recipe_model.build_model(recipe).get_weights()
    ):
        np.testing.assert_array_equal(started, trained)  # build_model loads the weights
    tuned = modelzoo.create_model(
        "two_layer_perceptron",
        hidden_units=3,
        weights=str(result.run_dir / run_folder.WEIGHTS_FILE),
    )
    for started, trained in zip(saved.get_weights(), tuned.get_weights()):
        np.testing.assert_allclose(
            started, trained, atol=1e-6
        )  # one epoch at lr 1e-9 barely moves them
    card = json.loads((result.export_path / "assets.extra" / "model_card.json").read_text())
    assert card["recipe"]["model"]["weights"] == "toy"
    with pytest.raises(
        modelzoo.UsageError,
        match=r"xor.toml, --set: model.weights: .*hidden_units=3; hidden_units=4",
    ):
        recipes.load("xor", {"model.weights": "toy", "model.hidden_units": 4})


def drawn_seven(path):
    """A 7 as a user draws it in a paint program: two wobbly dark strokes on white, 300 x 240."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 300), "white")
    pen = ImageDraw.Draw(image)
    pen.line(
        [(52, 62), (110, 58), (150, 61), (186, 57)], fill=(20, 20, 30), width=14, joint="curve"
    )
    pen.line(
        [(186, 57), (160, 120), (133, 185), (112, 246)], fill=(20, 20, 30), width=14, joint="curve"
    )
    image.save(path)


@pytest.mark.parametrize(
    "key", ["small_cnn:mnist", "softmax_mnist_classifier:mnist", "deep_relu_mlp:mnist"]
)
def test_predict_reads_a_hand_drawn_seven_with_shipped_weights(key, tmp_path):
    drawn_seven(tmp_path / "seven.png")
    result = CliRunner().invoke(cli, ["predict", key, str(tmp_path / "seven.png"), "--json"])
    assert result.exit_code == 0, result.output
    (answer,) = json.loads(result.output)
    assert answer["top"][0]["class"] == 7, answer["summary"]


@pytest.mark.slow  # exports a model
def test_shipped_small_cnn_exports_to_a_version_that_verify_passes(tmp_path):
    result = CliRunner().invoke(
        cli, ["export", "small_cnn", "--weights", "mnist", "--export-dir", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["verify", str(tmp_path / "mnist_cnn")])
    assert result.exit_code == 0 and result.output.rstrip().endswith(
        f"{tmp_path / 'mnist_cnn' / '1'} is servable"
    ), result.output


@pytest.mark.slow  # exports a model
def test_published_versions_have_the_modes_the_umask_gives(store, tmp_path):
    """A TF Serving process running as another user must be able to read what was published."""
    import os
    import stat

    previous = os.umask(0o022)
    try:
        result = CliRunner().invoke(
            cli,
            [
                "export",
                "two_layer_perceptron",
                "--weights",
                "toy",
                "--export-dir",
                str(tmp_path / "out"),
            ],
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    version = tmp_path / "out" / "toy_xor" / "1"
    for path in [version, *version.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_the_initializer_is_a_training_choice_shipped_weights_replace():
    default = modelzoo.create_model("deep_relu_mlp", weights="pima_diabetes")
    small = modelzoo.create_model(
        "deep_relu_mlp", weights="pima_diabetes", initializer="small_normal"
    )
    for a, b in zip(default.get_weights(), small.get_weights()):
        np.testing.assert_array_equal(a, b)
