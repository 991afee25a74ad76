"""`modelzoo evaluate`: where a model fails, as a report with pictures."""

from __future__ import annotations

import json

import click

from modelzoo.commands import data_mirror_option
from modelzoo.quiet import quiet_tensorflow, verbose_option


@click.command("evaluate")
@verbose_option
@click.argument("target", metavar="TARGET")
@click.option(
    "--data",
    metavar="NAME",
    default=None,
    help="The data set to score on (default: the one the model was trained on); also "
    "wild_digits, the held-out digits users bring.",
)
@click.option(
    "--split",
    type=click.Choice(["test", "dev"]),
    default="test",
    show_default=True,
    help="The split to score.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="DIR",
    help="Where to write the report (default: evaluations/<target>/<data>-<split>).",
)
@click.option("--json", "as_json", is_flag=True, help="Print report.json instead of a summary.")
@data_mirror_option
def evaluate_command(
    target: str,
    data: str | None,
    split: str,
    out: str | None,
    as_json: bool,
    data_mirror: str | None,
) -> None:
    """Score an export, shipped weights or a run on a data set, and write a report with pictures.

    \b
    An export:       modelzoo evaluate saved_models/mnist --data mnist
    Shipped weights: modelzoo evaluate small_cnn:mnist --data wild_digits
    A run:           modelzoo evaluate runs/mnist_cnn/<stamp> --split dev

    Classifiers get accuracy, per-class precision / recall / F1, the confusion matrix, the most
    confidently wrong examples and a reliability diagram with the expected calibration error;
    binary classifiers also ROC and precision-recall curves and the threshold best on dev;
    regressions a residual plot and MSE / MAE. The folder holds report.json (every number),
    report.md (embedding the PNGs) and the PNGs.
    """
    from modelzoo.data import resolve_mirror
    from modelzoo.evaluation import score

    chosen, data_name = score.prepare(target, data, split)  # mistakes answered before TensorFlow
    mirror = resolve_mirror(data_mirror) if data_name != "wild_digits" else None
    quiet_tensorflow()
    report, folder = score.score(chosen, data_name, split, out, mirror)
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    from modelzoo.evaluation.report import REPORT_MD, summary

    click.echo(f"{chosen.label} on {data_name} ({split}):")
    for line in summary(report):
        click.echo(f"  {line}")
    recorded = report.get("recorded", {})
    if "accuracy" in recorded and "classification" in report:
        click.echo(f"  recorded {split} accuracy when trained: {recorded['accuracy']:.4f}")
    click.echo(f"report: {folder / REPORT_MD}")
