"""The `modelzoo` command: list the zoo, show a card, prepare data, export shipped weights, verify,
serve and query exports.

TensorFlow is imported only by commands that build, load or run a model (`show`, `export`,
`predict`, `verify`, ...) and only after their arguments are checked, so `--help`, `list` and
mistakes answer at once.
"""

from __future__ import annotations

import json
import os
import sys

import click

from modelzoo.errors import ModelzooError, UsageError
from modelzoo.quiet import quiet_tensorflow, verbose_option
from modelzoo.registry import (
    ModelCard,
    TensorSpec,
    create_model,
    did_you_mean,
    list_models,
    model_card,
)
from modelzoo.words import plural


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


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modelzoo")
def cli() -> None:
    """Classic small Keras networks: pick one, train it with a recipe, serve it with TF Serving.

    Train with `python -m modelzoo.recipes NAME`.
    """


def _shape(spec: TensorSpec) -> str:
    """'image uint8[28,28,1]': name, dtype and shape of one example (no batch dimension)."""
    return f"{spec.name} {spec.dtype}[{','.join(str(d) for d in spec.shape[1:])}]"


@cli.command("list")
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


@cli.command("show")
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


def data_mirror_option(command):
    """The `--data-mirror DIR` option of every command that loads data."""
    return click.option(
        "--data-mirror",
        type=click.Path(file_okay=False, path_type=str),
        default=None,
        help="Folder with one subfolder per data set holding its original files, used instead of "
        "downloading (default: $MODELZOO_DATA_MIRROR).",
    )(command)


@cli.command("data")
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


@cli.command("export")
@verbose_option
@click.argument("name")
@click.option(
    "--weights",
    "tag",
    required=True,
    metavar="TAG",
    help="The shipped weights to export (see `modelzoo show NAME`).",
)
@click.option(
    "--export-dir",
    type=click.Path(file_okay=False),
    default="saved_models",
    show_default=True,
    help="Where the versioned SavedModel goes: EXPORT_DIR/EXPORT_NAME/VERSION.",
)
@click.option(
    "--name",
    "export_name",
    metavar="EXPORT_NAME",
    help="The model's folder (and TF Serving name); default: the export name of the recipe that trained the weights.",
)
def export_command(name: str, tag: str, export_dir: str, export_name: str | None) -> None:
    """Publish model NAME with its shipped weights TAG as a TF-Serving-ready SavedModel.

    No data and no training: the weights are checked against their sha256, the export is verified
    with the session loader TF Serving uses, then renamed into the next version folder.
    """
    from modelzoo import export, weights

    if export_name is not None and not export.is_model_folder_name(export_name):
        raise UsageError(f"--name {export_name!r}: {export.MODEL_FOLDER_RULE}")
    model_card(name)  # wrong names and tags fail before TensorFlow loads
    entry = weights.STORE.get(name, tag)
    export.check_export_dir(
        export_dir, export_name or entry.recipe_settings.get("export", {}).get("name", name)
    )
    quiet_tensorflow()
    path = export.publish_shipped(name, tag, export_dir, export_name)
    click.echo(f"{name}:{tag} exported and verified: {path}")


@cli.command("publish")
@click.argument("candidate", type=click.Path(exists=True, file_okay=False))
def publish_command(candidate: str) -> None:
    """Publish a CANDIDATE export (EXPORT_DIR/NAME/candidates/STAMP) that the publishing gate kept back.

    It becomes NAME's next version, which servers then load; its card records that it was published by hand.
    """
    quiet_tensorflow()
    from modelzoo import export

    path = export.promote(candidate)
    click.echo(f"published {candidate} as version {path.name}: {path}")


@cli.command("verify")
@verbose_option
@click.argument("path", type=click.Path(exists=True, file_okay=False))
def verify_command(path: str) -> None:
    """Check that TF Serving would serve the SavedModel at PATH (NAME or NAME/VERSION folder).

    Loads it in a fresh process with the session loader TF Serving uses, runs serving_default on
    the recorded sample inputs and compares with the Keras outputs; checks the signature.
    """
    quiet_tensorflow()
    from modelzoo import verify

    checks = verify.verify(path)
    for check in checks:
        click.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    failed = [c.name for c in checks if not c.ok]
    if failed:
        raise ModelzooError(
            f"{verify.version_dir(path)} is not servable ({', '.join(failed)} failed)"
        )
    click.echo(f"{verify.version_dir(path)} is servable")


@cli.command("serving-config")
@verbose_option
@click.argument("export_dir", type=click.Path(file_okay=False), default="saved_models")
@click.option(
    "--keep-versions",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="How many of the newest versions of each model TF Serving keeps loaded.",
)
@click.option(
    "--serving-root",
    metavar="DIR",
    help="Where the server sees EXPORT_DIR (e.g. /models in a container); default: its absolute path here.",
)
def serving_config_command(export_dir: str, keep_versions: int, serving_root: str | None) -> None:
    """Print a TF Serving models.config (ModelServerConfig) for every model under EXPORT_DIR."""
    quiet_tensorflow()
    from modelzoo import tfserving

    click.echo(tfserving.model_server_config(export_dir, keep_versions, serving_root), nl=False)


@cli.command("predict")
@verbose_option
@click.argument("args", nargs=-1, metavar="[SAVED_MODEL|MODEL:TAG] [FILES]...")
@click.option(
    "--url",
    metavar="URL",
    help="A TF Serving (or `modelzoo serve`) REST address, e.g. http://localhost:8501.",
)
@click.option("--model", metavar="NAME", help="The model name on the server (with --url).")
@click.option(
    "--version",
    "model_version",
    type=click.IntRange(min=1),
    help="A version on the server (default: the newest).",
)
@click.option(
    "--input",
    "rows_file",
    type=click.Path(dir_okay=False),
    metavar="ROWS",
    help='Examples as rows: a .csv file (optional header line) or a .json list / {"instances": ...}.',
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Classes to show per example.",
)
@click.option(
    "--signature", default="serving_default", show_default=True, help="The signature to run."
)
@click.option("--json", "as_json", is_flag=True, help="Print the answers as JSON.")
@click.option(
    "--print-request",
    is_flag=True,
    help="Print the REST predict body for the files, made as the model reads them, instead of predicting "
    "(e.g. | curl -d @- http://localhost:8501/v1/models/mnist:predict).",
)
def predict_command(
    args: tuple[str, ...],
    url: str | None,
    model: str | None,
    model_version: int | None,
    rows_file: str | None,
    top: int,
    signature: str,
    as_json: bool,
    print_request: bool,
) -> None:
    """Classify image files (or --input rows) with shipped weights, a local export or a model server.

    \b
    Shipped weights: modelzoo predict small_cnn:mnist digit.png [more.png]
    A local export:  modelzoo predict saved_models/mnist digit.png
    Through REST:    modelzoo predict --url http://localhost:8501 --model mnist digit.png

    Images of any size and mode become the model's input by MNIST's rules: grayscale, white
    digit on black (dark-on-light images are inverted), the ink fitted into 20x20 and centred by
    mass in 28x28. An image already 28x28 is used as it is.

    \b
    The same input as a TF Serving REST request body, for curl or any HTTP client:
    modelzoo predict saved_models/mnist --print-request digit.png |
        curl -s -d @- http://localhost:8501/v1/models/mnist:predict
    """
    from modelzoo import predict

    files = list(args)
    if url:
        if not model:
            raise UsageError("--url needs --model NAME, the model's name on the server")
        if print_request:
            from modelzoo import serving

            remote = serving.Client(url, model, model_version).signature(signature)
            click.echo(json.dumps(predict.request_body(remote, files, rows_file)))
            return
        predictions = predict.predict_remote(
            url, model, files, rows_file, top, model_version, signature
        )
    else:
        if model or model_version:
            raise UsageError(
                "--model and --version name a model on a server: give --url too, or a local SAVED_MODEL folder"
            )
        if not files:
            raise UsageError(
                "give MODEL:TAG (e.g. small_cnn:mnist) or a SAVED_MODEL folder (e.g. saved_models/mnist) "
                "and files, or --url and --model"
            )
        path, files = files[0], files[1:]
        shipped = (
            predict.parse_weights_name(path) if not os.path.isdir(path) else None
        )  # checked before TensorFlow loads
        if shipped and print_request:  # the manifest has the signature: no TensorFlow
            click.echo(
                json.dumps(
                    predict.request_body(predict.weights_signature(*shipped), files, rows_file)
                )
            )
            return
        if shipped:
            quiet_tensorflow()
            predictions = predict.predict_weights(*shipped, files, rows_file, top)
        else:
            if not os.path.isdir(path):
                hint = did_you_mean(path.partition(":")[0], list_models()) if ":" in path else ""
                raise UsageError(
                    f"{path}: neither a SavedModel folder nor MODEL:TAG shipped weights{hint}; give "
                    "saved_models/NAME[/VERSION] or e.g. small_cnn:mnist first, then the files"
                )
            quiet_tensorflow()
            if print_request:
                local = predict.read_signature(path, signature)
                click.echo(json.dumps(predict.request_body(local, files, rows_file)))
                return
            predictions = predict.predict_local(path, files, rows_file, top, signature)
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in predictions], indent=2))
        return
    for prediction in predictions:
        click.echo(f"{prediction.source}: {prediction.summary}")


@cli.command("serve")
@verbose_option
@click.argument("export_dir", type=click.Path(file_okay=False), default="saved_models")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8501,
    show_default=True,
    help="REST port (0: any free port).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind; 0.0.0.0 exposes it to the network.",
)
@click.option(
    "--poll-seconds",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    help="How often to look for new versions.",
)
@click.option(
    "--max-request-mb",
    type=click.FloatRange(min=0.001),
    default=16.0,
    show_default=True,
    help="Largest request body accepted (larger ones get HTTP 413).",
)
def serve_command(
    export_dir: str, port: int, host: str, poll_seconds: float, max_request_mb: float
) -> None:
    """Serve every model under EXPORT_DIR with TF Serving's REST API, for development and tests.

    Each model's newest complete version is served and new versions are picked up without a
    restart. Production is TF Serving itself (see the README); client code works against both.
    """
    import logging

    quiet_tensorflow()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from modelzoo import serving

    server = serving.Server(export_dir, host, port, poll_seconds, int(max_request_mb * 1024 * 1024))
    models = server.repository.models()
    for name, version in models.items():
        click.echo(f"serving {name} version {version}: {server.url}/v1/models/{name}")
    if not models:
        click.echo(
            f"no model under {os.path.abspath(export_dir)} yet; waiting for one (train with python "
            "-m modelzoo.recipes NAME)"
        )
    click.echo(f"listening on {server.url} (Ctrl-C stops; a development stand-in for TF Serving)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


def main() -> None:
    """Entry point of the `modelzoo` console script."""
    cli(prog_name="modelzoo")


if __name__ == "__main__":
    sys.exit(main())
