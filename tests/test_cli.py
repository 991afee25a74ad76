"""The `modelzoo` command and the `modelzoo.recipes` entry point."""

import json
import subprocess
import sys

from click.testing import CliRunner
from conftest import run_python

import modelzoo
from modelzoo.cli import cli


def invoke(*args):
    return CliRunner().invoke(cli, list(args), prog_name="modelzoo")


def test_list_prints_every_model_with_its_contract():
    result = invoke("list")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == [
        "name",
        "task",
        "input",
        "->",
        "output",
        "parameters",
        "weights",
        "(test)",
    ]
    for name in modelzoo.list_models():
        card = modelzoo.model_card(name)
        (row,) = [line for line in lines if line.startswith(name + " ")]
        assert f"{card.parameters:,}" in row and card.input.name in row and card.output.name in row


def test_list_json_is_the_cards():
    result = invoke("list", "--json", "*cnn")
    assert result.exit_code == 0
    assert json.loads(result.output) == [modelzoo.model_card("small_cnn").to_dict()]


def test_show_prints_card_and_keras_summary():
    result = invoke("show", "small_cnn")
    assert result.exit_code == 0, result.output
    assert "parameters:        34,826" in result.output
    assert "conv_1 (Conv2D)" in result.output and "Total params: 34,826" in result.output


def test_user_mistakes_get_one_line_and_exit_code():
    result = invoke("show", "small_cn")
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "did you mean 'small_cnn'" in result.output
    result = invoke("list", "zzz*")
    assert result.exit_code == 1 and result.output.count("\n") == 1


def test_help_and_list_do_not_import_tensorflow():
    result = run_python(
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from modelzoo.cli import cli\n"
        "for args in (['--help'], ['list'], ['list', '--json'], ['show', '--help'], ['data'], ['data', '--help']):\n"
        "    assert CliRunner().invoke(cli, args).exit_code == 0, args\n"
        "print('tensorflow' in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_module_entry_points_answer_help():
    for module in ("modelzoo", "modelzoo.recipes"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Usage:")


def test_data_lists_data_sets_and_refuses_unknown_names():
    result = invoke("data")
    assert result.exit_code == 0
    from modelzoo import data

    assert [line.split()[0] for line in result.output.splitlines()] == data.list_datasets()
    result = invoke("data", "xor", "mnits")
    assert result.exit_code == 2 and "did you mean 'mnist'" in result.output
