"""The HTTP surface of `modelzoo serve`: TF Serving's REST routes over the model repository.

`Server` also starts and stops the gRPC API (`modelzoo.serving.grpc_server`) with it when given
a `grpc_port`.

    GET  /v1/models/NAME[/versions/N]             version status
    GET  /v1/models/NAME[/versions/N]/metadata    signature_def map
    POST /v1/models/NAME[/versions/N]:predict     {"instances": rows} or {"inputs": columns}

Request limits (body size, read deadline, worker pool, pending connections) are TF Serving's
defaults; the pooled werkzeug server itself is in `modelzoo.serving.pool`.
"""

from __future__ import annotations

import json
import logging
import os
import threading

from modelzoo.errors import ModelzooError
from modelzoo.serving.pool import READ_DONE, TIMED_OUT, make_http_server
from modelzoo.serving.protocol import ServingError, parse_json
from modelzoo.serving.repository import ModelRepository

DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
log = logging.getLogger("modelzoo.serving")

#: The request is cut off when its headers and body have not arrived within this many seconds
#: (TF Serving's --rest_api_timeout_in_ms defaults to 30000).
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Worker threads answering requests (TF Serving's --rest_api_num_threads: 4 per CPU).
DEFAULT_WORKERS = min(32, max(8, 4 * (os.cpu_count() or 2)))
#: Connections accepted beyond the busy workers; more get 503 at once.
DEFAULT_MAX_PENDING = 128


def read_body(environ: dict, limit: int) -> bytes:
    """The request body, counted as it streams (chunked ones too): 413 past `limit`, 408 if cut off."""
    from werkzeug.exceptions import ClientDisconnected
    from werkzeug.wsgi import get_input_stream

    def too_large(size: str) -> ServingError:
        return ServingError(
            f"request too large: {size} bytes, the limit is {limit} (modelzoo serve --max-request-mb)",
            413,
        )

    try:
        length = int(environ["CONTENT_LENGTH"]) if environ.get("CONTENT_LENGTH") else None
    except ValueError:
        raise ServingError("Content-Length is not a number") from None
    if length is not None and length > limit:
        raise too_large(str(length))
    stream = get_input_stream(
        environ, max_content_length=None
    )  # Content-Length's bytes, or the dechunked stream
    parts, size = [], 0
    try:
        while chunk := stream.read(min(1 << 16, limit + 1 - size)):
            parts.append(chunk)
            size += len(chunk)
            if size > limit:
                raise too_large("more than")
    except (OSError, ClientDisconnected) as error:
        if isinstance(error, TimeoutError) or environ.get(TIMED_OUT, lambda: False)():
            raise ServingError("request timeout: the body did not arrive in time", 408) from None
        raise ServingError(
            "the request body ended early or is not valid chunked encoding"
        ) from None
    environ.get(READ_DONE, lambda: None)()
    return b"".join(parts)


def create_app(repository: ModelRepository, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES):
    """A WSGI application answering TF Serving's REST routes from `repository`."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.wrappers import Request, Response

    urls = _routes()

    def status(request: Request, name: str, version: int | None = None) -> dict:
        return repository.status(name, version)

    def metadata(request: Request, name: str, version: int | None = None) -> dict:
        return repository.get(name, version).metadata

    def predict(request: Request, name: str, version: int | None = None) -> dict:
        body = parse_json(read_body(request.environ, max_request_bytes))
        with repository.lease(name, version) as servable:
            return servable.predict_json(body)

    handlers = {"status": status, "metadata": metadata, "predict": predict}

    def reply(payload: dict, code: int = 200) -> Response:
        return Response(
            json.dumps(payload, indent=4) + "\n", status=code, mimetype="application/json"
        )

    @Request.application
    def application(request: Request) -> Response:
        try:
            endpoint, arguments = urls.bind_to_environ(request.environ).match()
            if endpoint != "predict":
                request.environ.get(READ_DONE, lambda: None)()
            return reply(handlers[endpoint](request, **arguments))
        except ServingError as error:
            return reply({"error": str(error)}, error.status)
        except HTTPException as error:
            return reply({"error": error.description or error.name}, error.code or 500)
        except Exception as error:  # noqa: BLE001 -- a bad request never takes the server down
            log.exception("internal error")
            return reply({"error": f"internal error: {type(error).__name__}: {error}"}, 500)

    return application


def _routes():
    """TF Serving's REST routes, each with and without /versions/N, to endpoint names."""
    from werkzeug.routing import BaseConverter, Map, Rule

    class ModelName(BaseConverter):
        regex = r"[^/:]+"

    versioned = ("/v1/models/<model:name>", "/v1/models/<model:name>/versions/<int:version>")
    return Map(
        [
            rule
            for base in versioned
            for rule in (
                Rule(base, endpoint="status", methods=["GET"]),
                Rule(f"{base}/metadata", endpoint="metadata", methods=["GET"]),
                Rule(f"{base}:predict", endpoint="predict", methods=["POST"]),
            )
        ],
        converters={"model": ModelName},
    )


class Server:
    """`modelzoo serve`: the repository, polled, behind a werkzeug HTTP server with a fixed pool of workers."""

    def __init__(
        self,
        export_dir: str | os.PathLike,
        host: str = "127.0.0.1",
        port: int = 8501,
        poll_seconds: float = 1.0,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        *,
        workers: int = DEFAULT_WORKERS,
        request_timeout: float = DEFAULT_REQUEST_TIMEOUT,
        max_pending: int = DEFAULT_MAX_PENDING,
        grpc_port: int | None = None,
    ):
        """`grpc_port`: also answer TF Serving's gRPC API there (0: any free port; None: no gRPC)."""
        self.repository = ModelRepository(export_dir, poll_seconds)
        self.repository.start()
        self.grpc, self.grpc_port = None, None
        try:
            app = create_app(self.repository, max_request_bytes)
            self.http = make_http_server(host, port, app, workers, request_timeout, max_pending)
        except OSError as error:
            self.repository.stop()
            raise ModelzooError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another --port"
            ) from None
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{self.http.server_port}"
        if grpc_port is not None:
            from modelzoo.serving.grpc_server import make_grpc_server

            try:
                self.grpc, self.grpc_port = make_grpc_server(
                    self.repository, host, grpc_port, workers, max_request_bytes, max_pending
                )
            except BaseException:
                self.http.server_close()
                self.repository.stop()
                raise
        #: HOST:PORT of the gRPC API (None without one), for a gRPC channel.
        self.grpc_target = (
            None
            if self.grpc_port is None
            else f"{host if ':' not in host else f'[{host}]'}:{self.grpc_port}"
        )

    def serve_forever(self) -> None:
        try:
            if self.grpc is not None:
                self.grpc.start()
            self.http.serve_forever()
        finally:
            if self.grpc is not None:
                self.grpc.stop(grace=1).wait()
            self.repository.stop()

    def start_background(self) -> threading.Thread:
        """Serve from a daemon thread (tests, notebooks); stop with `shutdown()`."""
        if self.grpc is not None:
            self.grpc.start()
        thread = threading.Thread(
            target=self.http.serve_forever, name="modelzoo-serve", daemon=True
        )
        thread.start()
        return thread

    def shutdown(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        if self.grpc is not None:
            self.grpc.stop(grace=1).wait()
        self.repository.stop()
