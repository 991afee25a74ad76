"""The `modelzoo` command: list the zoo, show a card, prepare data, export shipped weights, verify,
serve and query exports.

TensorFlow is imported only by commands that build, load or run a model (`show`, `export`,
`predict`, `verify`, ...) and only after their arguments are checked, so `--help`, `list` and
mistakes answer at once.
"""

from __future__ import annotations

import sys

import click

from modelzoo import hardware
from modelzoo.commands import (
    Group,
    catalog,
    data_mirror_option,
    echo_table,
    evaluation,
    exports,
    prediction,
)
from modelzoo.quiet import quiet_tensorflow  # noqa: F401  (importable from here, as benchmarks do)

__all__ = ["Group", "cli", "data_mirror_option", "echo_table", "main"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelzoo")
def cli() -> None:
    """Classic small Keras networks: pick one, train it with a recipe, serve it with TF Serving.

    Train with `python -m modelzoo.recipes NAME`.
    """


for command in (
    catalog.list_command,
    catalog.show_command,
    catalog.data_command,
    exports.export_command,
    exports.publish_command,
    exports.verify_command,
    exports.serving_config_command,
    prediction.predict_command,
    evaluation.evaluate_command,
    exports.serve_command,
):
    cli.add_command(command)


def main() -> None:
    """Entry point of the `modelzoo` console script: TensorFlow, if a command loads it, computes
    with oneDNN's CPU kernels unless the user set TF_ENABLE_ONEDNN_OPTS (`hardware.prefer_onednn`;
    only here, in the process a user starts, never on import)."""
    hardware.prefer_onednn()
    cli(prog_name="modelzoo")


if __name__ == "__main__":
    sys.exit(main())
