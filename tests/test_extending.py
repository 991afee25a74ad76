"""The extension points work as the README's "Extending modelzoo" says: a model is one decorated
function, a recipe is one TOML file, a data set is one registered entry, and the suite's
registry-driven tests cover each new one without a line of them changing.

The throwaway entries live in tests/extending/ (a plugin module and a recipe folder); they are
registered only inside the pytest run started here, never in this session.
"""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import modelzoo
from modelzoo import data
from modelzoo import recipe_file as recipes
from modelzoo.targets import Targets

HERE = Path(__file__).resolve().parent
EXTENDING = HERE / "extending"
NEW = {"model": "throwaway_mlp", "data set": "throwaway_points", "recipe": "throwaway_recipe"}


def test_the_throwaway_entries_are_not_in_this_session():
    assert NEW["model"] not in modelzoo.list_models()
    assert NEW["data set"] not in data.list_datasets()
    assert NEW["recipe"] not in recipes.recipe_names()


@pytest.mark.slow
def test_registry_driven_tests_pick_up_a_new_model_recipe_and_data_set():
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(EXTENDING), os.environ.get("PYTHONPATH")])),
        recipes.RECIPES_PATH_ENV: str(EXTENDING / "recipes"),
    }
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-p", "throwaway_zoo", "-p", "no:cacheprovider"),
            *("-q", "-rA", "-k", "throwaway", "-m", "not integration"),
            *("tests/test_models.py", "tests/test_recipes.py", "tests/test_data.py"),
            "tests/test_cli.py::test_data_lists_data_sets_and_refuses_unknown_names",
        ],
        cwd=HERE.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = [line for line in result.stdout.splitlines() if line.startswith("PASSED ")]
    for name in NEW.values():
        assert any(f"[{name}]" in line for line in passed), (name, result.stdout[-4000:])
    # Every schema test of a model ran on the new one; the recipe's and data set's tests too.
    assert sum("test_models.py" in line for line in passed) >= 10
    assert any(
        "test_recipe_resolves_and_its_model_card_names_it[throwaway_recipe]" in line
        for line in passed
    )
    assert any(
        "test_toy_pipelines_batch_shuffle_and_type_targets[throwaway_points]" in line
        for line in passed
    )


def test_a_recipe_on_the_recipe_path_comes_after_the_built_ins(tmp_path, monkeypatch):
    (tmp_path / "mine.toml").write_text(recipes.find("xor").read_text())
    (tmp_path / "xor.toml").write_text("not even TOML")  # a built-in name is never shadowed
    monkeypatch.setenv(recipes.RECIPES_PATH_ENV, os.pathsep.join(["", str(tmp_path)]))
    assert recipes.recipe_names() == [*recipes.builtin_names(), "mine"]
    assert recipes.find("mine") == tmp_path / "mine.toml"
    assert recipes.load("mine").model == "two_layer_perceptron"
    assert recipes.load("xor").source != str(tmp_path / "xor.toml")
    assert "mine" in modelzoo.model_card("two_layer_perceptron").recipes
    listed = CliRunner().invoke(importlib.import_module("modelzoo.recipes.__main__").main, ["list"])
    assert listed.output.splitlines()[-1].startswith("mine ")
    monkeypatch.delenv(recipes.RECIPES_PATH_ENV)
    with pytest.raises(recipes.RecipeError, match="unknown recipe 'mine'"):
        recipes.find("mine")
    assert "mine" not in modelzoo.model_card("two_layer_perceptron").recipes


@pytest.mark.parametrize(
    "section, message",
    [
        ("slope = 2.0", "targets.intercept: missing: a line target takes slope, intercept"),
        ("train_seconds = 0", "targets.train_seconds: must be positive, got 0"),
        ("train_seconds = 'fast'", "targets.train_seconds: must be a number, got 'fast'"),
        ("wild_digits_accuracy = 95", "targets.wild_digits_accuracy: must be in (0, 1], got 95"),
        ("speed = 1", "targets.speed: unknown field"),
    ],
)
def test_bad_targets_name_the_field(section, message, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(recipes.find("xor").read_text() + f"\n[targets]\n{section}\n")
    with pytest.raises(recipes.RecipeError, match=message.replace("(", r"\(").replace("]", r"\]")):
        recipes.load(str(path))


def test_targets_are_read_from_the_recipe_files():
    assert recipes.load("linear").targets.line == (2.0, 0.5, 0.05)
    assert recipes.load("mnist").targets.train_seconds == 60.0
    assert recipes.load("mnist_cnn").targets.wild_digits_accuracy == 0.98
    assert recipes.load("xor").targets == Targets()
