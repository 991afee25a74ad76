"""The `modelzoo` command's subcommands, one module per group, and what they share.

catalog: list, show, data; exports: export, publish, verify, serving-config, serve; prediction:
predict; evaluation: evaluate. modelzoo.cli puts them into the `modelzoo` group; `python -m modelzoo.recipes` uses
`Group`, `echo_table` and `data_mirror_option` too.
"""

from __future__ import annotations

import click

from modelzoo.errors import ModelzooError


class Group(click.Group):
    """A click group that turns a `ModelzooError` into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ModelzooError as error:
            click.echo(f"{ctx.command_path}: error: {error}", err=True)
            ctx.exit(error.exit_code)


def echo_table(rows: list[tuple[str, ...]], right_align_last: bool = False) -> None:
    """Print rows as aligned columns (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        cells[-1] = row[-1].rjust(widths[-1]) if right_align_last else row[-1]
        click.echo("  ".join(cells))


def data_mirror_option(command):
    """The `--data-mirror DIR` option of every command that loads data."""
    return click.option(
        "--data-mirror",
        type=click.Path(file_okay=False, path_type=str),
        default=None,
        help="Folder with one subfolder per data set holding its original files, used instead of "
        "downloading (default: $MODELZOO_DATA_MIRROR).",
    )(command)
