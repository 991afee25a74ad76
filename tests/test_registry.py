"""The registry API: listing, lookup errors, and staying free of TensorFlow until a model is built."""

import json

import pytest
from conftest import run_python

import modelzoo


def test_list_models_filters_with_wildcards_and_sorts():
    assert modelzoo.list_models("*mnist*") == ["softmax_mnist_classifier"]
    assert modelzoo.list_models("*classifier") == [
        "sigmoid_binary_classifier",
        "softmax_mnist_classifier",
    ]
    assert modelzoo.list_models("nothing*") == []
    assert modelzoo.list_models() == sorted(modelzoo.list_models())


@pytest.mark.parametrize(
    "name, suggestion",
    [("small_cnnn", "small_cnn"), ("cnn", "small_cnn"), ("linear_regresion", "linear_regression")],
)
def test_unknown_model_names_close_matches(name, suggestion):
    with pytest.raises(ValueError, match=rf"unknown model '{name}' \(did you mean '{suggestion}'"):
        modelzoo.create_model(name)
    with pytest.raises(modelzoo.UsageError):
        modelzoo.model_card(name)


def test_unknown_keyword_suggests_the_argument():
    with pytest.raises(
        ValueError, match=r"unknown argument 'hidden_unit' \(did you mean 'hidden_units'\?\)"
    ):
        modelzoo.create_model("deep_relu_mlp", hidden_unit=3)


def test_import_and_listing_do_not_load_tensorflow():
    result = run_python(
        "import sys, json, modelzoo\n"
        "cards = [modelzoo.model_card(n).to_dict() for n in modelzoo.list_models()]\n"
        "json.dumps(cards)\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_bad_arguments_fail_before_tensorflow_loads():
    result = run_python(
        "import sys, modelzoo\n"
        "for name, kwargs in [('small_cnn', {'filters': (32, 0)}), ('deep_relu_mlp', {'hidden_units': 'wide'}),\n"
        "                     ('small_cnn', {'filters': (8, 8, 8, 8)}), ('linear_regression', {'unit': 2})]:\n"
        "    try:\n"
        "        modelzoo.create_model(name, **kwargs)\n"
        "    except ValueError as error:\n"
        "        print(error)\n"
        "print('tensorflow' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 5 and lines[-1] == "False"
    assert lines[0].startswith("small_cnn: filters must be a list of positive integers")
    assert lines[1].startswith("deep_relu_mlp: hidden_units")
    assert lines[2].startswith("small_cnn: filters: block 4 of 4")
    assert lines[3].startswith("linear_regression: unknown argument 'unit'")


def test_cards_serialize_to_json():
    cards = [modelzoo.model_card(n).to_dict() for n in modelzoo.list_models()]
    assert json.loads(json.dumps(cards)) == json.loads(json.dumps(cards, sort_keys=True))


def test_resolving_every_recipe_and_reading_every_spec_leave_tensorflow_unimported():
    """Checking recipes runs every model's argument checks and reads every data set's spec."""
    result = run_python(
        "import sys, modelzoo\n"
        "from modelzoo import data, recipe_file\n"
        "recipes = [recipe_file.load(name) for name in recipe_file.recipe_names()]\n"
        "specs = [data.dataset_spec(name) for name in data.list_datasets()]\n"
        "cards = [modelzoo.model_card(name) for name in modelzoo.list_models()]\n"
        "print(len(recipes), len(specs), len(cards))\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))\n"
    )
    assert result.returncode == 0, result.stderr
    counts, imported = result.stdout.strip().splitlines()
    assert all(int(n) > 0 for n in counts.split()) and imported == "[]"


def test_check_arguments_blocks_tensorflow_for_a_factory_in_any_module():
    """A factory outside modelzoo.models that imports Keras itself is stopped after its checks."""
    result = run_python(
        "import sys, modelzoo\n"
        "from modelzoo import checks\n"
        "from modelzoo.registry import TensorSpec, register_model\n"
        "spec = TensorSpec('features', (None, 1), 'float32')\n"
        "@register_model(task='regression', input=spec, output=spec, output_activation=None,\n"
        "                default_loss='mean_squared_error', default_metrics=(), parameters=2)\n"
        "def elsewhere(*, units: int = 1):\n"
        "    checks.positive_int('units', units)\n"
        "    import keras\n"
        "    return keras.Sequential([keras.Input((1,)), keras.layers.Dense(units)])\n"
        "modelzoo.check_arguments('elsewhere', units=3)\n"
        "try:\n"
        "    modelzoo.check_arguments('elsewhere', units=0)\n"
        "except ValueError as error:\n"
        "    print(error)\n"
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "elsewhere: units must be a positive integer, got 0",
        "False",
    ]
