"""The README's generated sections match the registry and the recorded results."""

from pathlib import Path

from benchmarks import update_readme

README = Path(__file__).resolve().parent.parent / "README.md"


def test_generated_sections_are_current():
    text = README.read_text()
    assert update_readme.render(text) == text, "run: python benchmarks/update_readme.py"


def test_install_lint_and_test_commands_are_the_ones_ci_runs():
    ci = (README.parent / ".ci" / "run").read_text()
    for line in (
        'pip install -e ".[dev,onnx,litert]"',
        "ruff check . && ruff format --check .",
        "python -m pytest -n auto --dist worksteal",
    ):
        assert line in README.read_text().splitlines()
        assert line in ci
