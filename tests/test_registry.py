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
