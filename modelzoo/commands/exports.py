"""`modelzoo export`, `publish`, `verify`, `serving-config` and `serve`: SavedModels for TF Serving."""

from __future__ import annotations

import os

import click

from modelzoo.errors import ModelzooError, UsageError
from modelzoo.quiet import quiet_tensorflow, verbose_option
from modelzoo.registry import model_card


@click.command("export")
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
@click.option(
    "--format",
    "formats",
    metavar="FORMATS",
    default="savedmodel",
    show_default=True,
    help="Export formats, comma-separated, from savedmodel (always written), onnx, litert, "
    "litert-int8 (which loads the weights' data set to calibrate and test it); each is checked "
    "against Keras before it is published.",
)
def export_command(
    name: str, tag: str, export_dir: str, export_name: str | None, formats: str
) -> None:
    """Publish model NAME with its shipped weights TAG as a TF-Serving-ready SavedModel.

    No training: the weights are checked against their sha256, the export is verified with the
    session loader TF Serving uses, then renamed into the next version folder. Other formats go
    beside it (EXPORT_DIR/EXPORT_NAME/formats/VERSION), each checked in its own runtime.
    """
    from modelzoo import export, exporters, storage, weights

    if export_name is not None and not storage.is_model_folder_name(export_name):
        raise UsageError(f"--name {export_name!r}: {storage.MODEL_FOLDER_RULE}")
    model_card(name)  # wrong names, tags and formats fail before TensorFlow loads
    chosen = exporters.supported_formats(exporters.parse_formats(formats), name)
    entry = weights.STORE.get(name, tag)
    export.check_export_dir(
        export_dir, export_name or entry.recipe_settings.get("export", {}).get("name", name)
    )
    quiet_tensorflow()
    path = export.publish_shipped(name, tag, export_dir, export_name, chosen)
    click.echo(f"{name}:{tag} exported and verified: {path}")
    for line in exporters.describe_formats(path):
        click.echo(line)


@click.command("publish")
@click.argument("candidate", type=click.Path(exists=True, file_okay=False))
def publish_command(candidate: str) -> None:
    """Publish a CANDIDATE export (EXPORT_DIR/NAME/candidates/STAMP) that the publishing gate kept back.

    It becomes NAME's next version, which servers then load; its card records that it was published by hand.
    """
    quiet_tensorflow()
    from modelzoo import export, exporters

    path = export.promote(candidate)
    click.echo(f"published {candidate} as version {path.name}: {path}")
    for line in exporters.describe_formats(path):
        click.echo(line)


@click.command("verify")
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


@click.command("serving-config")
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
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="[MODEL:]LABEL=VERSION",
    help="A version label (e.g. stable=3), repeatable; MODEL: when EXPORT_DIR has several models.",
)
def serving_config_command(
    export_dir: str, keep_versions: int, serving_root: str | None, labels: tuple[str, ...]
) -> None:
    """Print a TF Serving models.config (ModelServerConfig) for every model under EXPORT_DIR."""
    quiet_tensorflow()
    from modelzoo import tfserving

    click.echo(
        tfserving.model_server_config(export_dir, keep_versions, serving_root, list(labels)),
        nl=False,
    )


@click.command("serve")
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
    help="Largest request body accepted (larger ones get HTTP 413, or RESOURCE_EXHAUSTED over gRPC).",
)
@click.option(
    "--grpc-port",
    type=click.IntRange(0, 65535),
    default=8500,
    show_default=True,
    help="gRPC port of TF Serving's PredictionService and ModelService (0: any free port).",
)
@click.option("--no-grpc", is_flag=True, help="Answer REST only, no gRPC server.")
@click.option(
    "--model-config-file",
    "--model_config_file",
    "model_config_file",
    type=click.Path(dir_okay=False, exists=True),
    help="A models.config (modelzoo serving-config): serve its models, version policies and "
    "version labels, as TF Serving's --model_config_file (versions are read from EXPORT_DIR/NAME).",
)
def serve_command(
    export_dir: str,
    port: int,
    host: str,
    poll_seconds: float,
    max_request_mb: float,
    grpc_port: int,
    no_grpc: bool,
    model_config_file: str | None,
) -> None:
    """Serve every model under EXPORT_DIR with TF Serving's REST and gRPC APIs, for development and tests.

    Each model's newest complete version is served and new versions are picked up without a
    restart. Production is TF Serving itself (see the README); client code works against both.
    """
    import logging

    quiet_tensorflow()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from modelzoo import serving

    server = serving.Server(
        export_dir,
        host,
        port,
        poll_seconds,
        int(max_request_mb * 1024 * 1024),
        grpc_port=None if no_grpc else grpc_port,
        model_config=serving.read_model_config(model_config_file) if model_config_file else None,
    )
    models = server.repository.models()
    for name, version in models.items():
        click.echo(f"serving {name} version {version}: {server.url}/v1/models/{name}")
    if not models:
        click.echo(
            f"no model under {os.path.abspath(export_dir)} yet; waiting for one (train with python "
            "-m modelzoo.recipes NAME)"
        )
    grpc = f" and gRPC on {server.grpc_target}" if server.grpc_target else ""
    click.echo(
        f"listening on {server.url}{grpc} (Ctrl-C stops; a development stand-in for TF Serving)"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
