"""`python -m modelzoo.recipes`: train zoo models by recipe."""

import click

from modelzoo.cli import Group


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
def recipes() -> None:
    """Train, evaluate and export zoo models by recipe."""


if __name__ == "__main__":
    recipes(prog_name="python -m modelzoo.recipes")
