"""`modelzoo list`, `show` and `data`: the zoo's models, their cards and weights, the data sets."""

from __future__ import annotations

import json

import click

from modelzoo.commands import data_mirror_option, echo_table
from modelzoo.errors import ModelzooError
from modelzoo.quiet import quiet_tensorflow, verbose_option
from modelzoo.registry import ModelCard, TensorSpec, create_model, list_models, model_card
from modelzoo.words import plural


def _shape(spec: TensorSpec) -> str:
    """'image uint8[28,28,1]': name, dtype and shape of one example (no batch dimension)."""
    return f"{spec.name} {spec.dtype}[{','.join(str(d) for d in spec.shape[1:])}]"


@click.command("list")
@click.argument("pattern", default="*")
@click.option("--json", "as_json", is_flag=True, help="Print the cards as JSON, for scripts.")
def list_command(pattern: str, as_json: bool) -> None:
    """List the models whose names match PATTERN (shell wildcards, default all)."""
    cards = [model_card(name) for name in list_models(pattern)]
    if as_json:
        click.echo(json.dumps([card.to_dict() for card in cards], indent=2))
        return
    if not cards:
        raise ModelzooError(f"no model matches {pattern!r}; `modelzoo list` shows them all")
    rows = [("name", "task", "input -> output", "parameters", "weights (test)")]
    rows += [
        (
            c.name,
            c.task,
            f"{_shape(c.input)} -> {_shape(c.output)}",
            f"{c.parameters:,}",
            ", ".join(f"{w.tag} ({w.summary})" for w in c.weights) or "-",
        )
        for c in cards
    ]
    echo_table(rows)


def _weights_lines(weights) -> list[str]:
    """The record of one shipped set of weights, for `modelzoo show`."""
    from modelzoo.recipe_file import format_metric

    lines = [
        f"weights {weights.tag!r}:  create_model({weights.model!r}, weights={weights.tag!r}); "
        f"modelzoo predict {weights.key} FILE"
    ]
    for split, scores in weights.metrics.items():
        shown = ", ".join(
            f"{k} {format_metric(k, v)}" for k, v in scores.items() if isinstance(v, float)
        )
        lines.append(f"  {split + ':':18s} {shown}")
    data = weights.data
    lines += [
        f"  {'trained by:':18s} {weights.command} ({plural(weights.epochs, 'epoch')}, {weights.trained['date']}, "
        f"{weights.trained['machine']})",
        f"  {'architecture:':18s} {json.dumps(weights.model_args)}: {weights.contract}, "
        f"{weights.parameters:,} parameters",
        f"  {'data:':18s} {data['name']} ({', '.join(f'{k} {v}' for k, v in data['sizes'].items())}), {data['source']}",
        f"  {'data licence:':18s} {data['licence']}",
        f"  {'classes:':18s} {', '.join(weights.classes) or '- (regression)'}",
        f"  {'file:':18s} {weights.file} ({weights.bytes:,} bytes, sha256 {weights.sha256[:16]}...)",
        f"  {'versions:':18s} {', '.join(f'{k} {v}' for k, v in weights.trained['versions'].items())}",
    ]
    return lines


def _card_lines(card: ModelCard) -> list[str]:
    return [
        f"name:              {card.name}",
        f"task:              {card.task}",
        f"input:             {card.input}",
        f"output:            {card.output}",
        f"output activation: {card.output_activation or 'none (linear)'}",
        f"default loss:      {card.default_loss}",
        f"default metrics:   {', '.join(card.default_metrics)}",
        f"parameters:        {card.parameters:,}",
        f"trained by:        {', '.join(card.recipes) or '-'}",
        f"description:       {card.description}",
        f"initialization:    {card.initialization}",
    ]


@click.command("show")
@verbose_option
@click.argument("name")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the card as JSON, without the summary."
)
def show_command(name: str, as_json: bool) -> None:
    """Print the card of model NAME and its Keras layer summary."""
    card = model_card(name)
    if as_json:
        click.echo(json.dumps(card.to_dict(), indent=2))
        return
    click.echo("\n".join(_card_lines(card)))
    for weights in card.weights:
        click.echo("\n".join(_weights_lines(weights)))
    click.echo()
    quiet_tensorflow()
    create_model(name).summary(print_fn=lambda line, **_: click.echo(line))


@click.command("data")
@verbose_option
@click.argument("names", nargs=-1)
@data_mirror_option
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Where tfds keeps prepared data (default: $TFDS_DATA_DIR or ~/tensorflow_datasets).",
)
def data_command(names: tuple[str, ...], data_mirror: str | None, data_dir: str | None) -> None:
    """List the data sets, or prepare the NAMES given and print their splits."""
    from modelzoo import data

    if not names:
        for name in data.list_datasets():
            click.echo(f"{name:15s} {data.dataset_spec(name).description}")
        return
    for name in names:
        data.dataset_spec(name)  # unknown names fail before TensorFlow loads
    quiet_tensorflow()
    for name in names:
        info = data.load(name, mirror=data_mirror, data_dir=data_dir).info
        sizes = ", ".join(f"{split} {size}" for split, size in info.sizes.items())
        click.echo(f"{name}: {sizes}; input {info.input}; from {info.source}")
