"""`modelzoo predict`: classify files or rows with shipped weights, a local export or a server."""

from __future__ import annotations

import json
import os

import click

from modelzoo.errors import UsageError
from modelzoo.predict import RUNTIMES
from modelzoo.quiet import quiet_tensorflow, verbose_option
from modelzoo.registry import did_you_mean, list_models


@click.command("predict")
@verbose_option
@click.argument("args", nargs=-1, metavar="[SAVED_MODEL|MODEL:TAG] [FILES]...")
@click.option(
    "--url",
    metavar="URL",
    help="A TF Serving (or `modelzoo serve`) REST address, e.g. http://localhost:8501.",
)
@click.option(
    "--grpc",
    "grpc_target",
    metavar="HOST:PORT",
    help="A TF Serving (or `modelzoo serve`) gRPC address instead, e.g. localhost:8500.",
)
@click.option(
    "--model", metavar="NAME", help="The model name on the server (with --url or --grpc)."
)
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
@click.option(
    "--runtime",
    type=click.Choice(RUNTIMES),
    default=None,
    help="What runs a local export: savedmodel (TensorFlow, as TF Serving), onnx (ONNX Runtime), "
    "litert or litert-int8 (LiteRT); the version must have been published in that format. "
    "Default: litert, else onnx, else savedmodel, whichever the version has; onnx and litert "
    "never load TensorFlow.",
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
    grpc_target: str | None,
    model: str | None,
    model_version: int | None,
    rows_file: str | None,
    top: int,
    signature: str,
    runtime: str | None,
    as_json: bool,
    print_request: bool,
) -> None:
    """Classify image files (or --input rows) with shipped weights, a local export or a model server.

    \b
    Shipped weights: modelzoo predict small_cnn:mnist digit.png [more.png]
    A local export:  modelzoo predict saved_models/mnist digit.png
    In ONNX Runtime: modelzoo predict --runtime onnx saved_models/mnist digit.png
    Through REST:    modelzoo predict --url http://localhost:8501 --model mnist digit.png
    Through gRPC:    modelzoo predict --grpc localhost:8500 --model mnist digit.png

    Images of any size and mode become the model's input by MNIST's rules: grayscale, white
    digit on black (dark-on-light images are inverted), the ink fitted into 20x20 and centred by
    mass in 28x28. An image already 28x28 is used as it is.

    \b
    The same input as a TF Serving REST request body, for curl or any HTTP client:
    modelzoo predict saved_models/mnist --print-request digit.png |
        curl -s -d @- http://localhost:8501/v1/models/mnist:predict
    """
    if url and grpc_target:
        raise UsageError("give --url (REST) or --grpc (gRPC), not both")
    if runtime and (url or grpc_target):
        raise UsageError(
            "--runtime chooses what runs a local export; a server (--url, --grpc) runs its own"
        )
    if grpc_target:
        if print_request:
            raise UsageError("--print-request prints a REST body: use --url, not --grpc")
        predictions = _grpc(
            grpc_target, model, model_version, list(args), rows_file, top, signature
        )
    elif url:
        predictions = _remote(
            url, model, model_version, list(args), rows_file, top, signature, print_request
        )
    else:
        if model or model_version:
            raise UsageError(
                "--model and --version name a model on a server: give --url or --grpc too, or a local "
                "SAVED_MODEL folder"
            )
        if not args:
            raise UsageError(
                "give MODEL:TAG (e.g. small_cnn:mnist) or a SAVED_MODEL folder (e.g. saved_models/mnist) "
                "and files, or --url and --model"
            )
        predictions = _local(
            args[0], list(args[1:]), rows_file, top, signature, print_request, runtime
        )
    if predictions is None:  # the request was printed
        return
    if as_json:
        click.echo(json.dumps([p.to_dict() for p in predictions], indent=2))
        return
    for prediction in predictions:
        click.echo(f"{prediction.source}: {prediction.summary}")


def _remote(url, model, model_version, files, rows_file, top, signature, print_request):
    """Predictions through a model server, or None after printing the request body."""
    from modelzoo import predict

    if not model:
        raise UsageError("--url needs --model NAME, the model's name on the server")
    if print_request:
        from modelzoo import serving

        remote = serving.Client(url, model, model_version).signature(signature)
        click.echo(json.dumps(predict.request_body(remote, files, rows_file)))
        return None
    return predict.predict_remote(url, model, files, rows_file, top, model_version, signature)


def _grpc(target, model, model_version, files, rows_file, top, signature):
    """Predictions through a model server's gRPC API."""
    from modelzoo import predict

    if not model:
        raise UsageError("--grpc needs --model NAME, the model's name on the server")
    return predict.predict_grpc(target, model, files, rows_file, top, model_version, signature)


def _local(path, files, rows_file, top, signature, print_request, runtime=None):
    """Predictions of shipped weights (MODEL:TAG) or a local export in `runtime`, or None after
    printing the request body."""
    from modelzoo import predict

    shipped = (
        predict.parse_weights_name(path) if not os.path.isdir(path) else None
    )  # checked before TensorFlow loads
    if shipped and runtime:
        raise UsageError(
            f"--runtime chooses what runs a local export; shipped weights ({path}) run in Keras: "
            "give saved_models/NAME[/VERSION] instead"
        )
    if shipped and print_request:  # the manifest has the signature: no TensorFlow
        signature_spec = predict.weights_signature(*shipped)
        click.echo(json.dumps(predict.request_body(signature_spec, files, rows_file)))
        return None
    if shipped:
        quiet_tensorflow()
        return predict.predict_weights(*shipped, files, rows_file, top)
    if not os.path.isdir(path):
        hint = did_you_mean(path.partition(":")[0], list_models()) if ":" in path else ""
        raise UsageError(
            f"{path}: neither a SavedModel folder nor MODEL:TAG shipped weights{hint}; give "
            "saved_models/NAME[/VERSION] or e.g. small_cnn:mnist first, then the files"
        )
    version, chosen = predict.choose_runtime(path, runtime)
    if chosen != predict.SAVED_MODEL:  # ONNX Runtime or LiteRT: TensorFlow is never imported
        if print_request:
            model = predict.open_export(version, chosen)
            local = predict.runtime_signature(model, chosen, signature)
            click.echo(json.dumps(predict.request_body(local, files, rows_file)))
            return None
        return predict.predict_runtime(version, chosen, files, rows_file, top, signature)
    quiet_tensorflow()
    if print_request:
        local = predict.read_signature(str(version), signature)
        click.echo(json.dumps(predict.request_body(local, files, rows_file)))
        return None
    return predict.predict_local(str(version), files, rows_file, top, signature)
