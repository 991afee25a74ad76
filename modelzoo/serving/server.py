"""The HTTP surface of `modelzoo serve`: TF Serving's REST routes over the model repository.

`Server` also starts and stops the gRPC API (`modelzoo.serving.grpc_server`) with it when given
a `grpc_port`.

    GET  /v1/models/NAME[/versions/N|/labels/L]             version status (all versions)
    GET  /v1/models/NAME[/versions/N|/labels/L]/metadata    signature_def map
    POST /v1/models/NAME[/versions/N|/labels/L]:predict     {"instances": rows} or {"inputs": columns}

Anything else under /v1/ is TF Serving's 400 "Malformed request: METHOD PATH"; paths match
case-insensitively, and a predict body is read before the model is looked up, as TF Serving does.

Request limits (body size, read deadline, worker pool, pending connections) are TF Serving's
defaults; the pooled werkzeug server itself is in `modelzoo.serving.pool`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from urllib.parse import quote, unquote

from modelzoo.errors import ModelzooError
from modelzoo.serving.json_parse import parse_json
from modelzoo.serving.json_tensor import signature_name
from modelzoo.serving.json_writer import error_json
from modelzoo.serving.model_config import ModelPolicy
from modelzoo.serving.pool import READ_DONE, TIMED_OUT, make_http_server
from modelzoo.serving.protocol import ServingError
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


#: TF Serving's REST paths (tensorflow_serving/model_servers/http_rest_api_util.cc): RE2 full
#: matches, case-insensitive (?i); \d is ASCII only there, hence re.ASCII.
_HANDLED = re.compile(r"/v1/.*", re.I | re.A)
_PREDICT = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)",
    re.I | re.A,
)
_STATUS = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/(\d+))|(?:/labels/([^/:]+)))?(?:/(metadata))?",
    re.I | re.A,
)


def _raw_path(environ: dict) -> str:
    """The request path as sent (percent-escapes kept, no query), as TF Serving's uri_path()."""
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return raw.split("?", 1)[0].split("#", 1)[0]
    return quote(environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~", errors="surrogateescape")


def parse_model_path(method: str, path: str):
    """ParseModelInfo: (matched, name, version, label, verb, subresource), or its 400s."""
    match = (
        (_PREDICT if method == "POST" else _STATUS).fullmatch(path)
        if method
        in (
            "POST",
            "GET",
        )
        else None
    )
    if match is None:
        return False, "", None, None, "", ""
    name, version_text, label, verb = match.groups()
    name = unquote(name or "", errors="surrogateescape")
    version = None
    if version_text:
        version = int(version_text)
        if version >= 2**63:
            raise ServingError(f"Failed to convert version: {version_text} to numeric.")
    if label:
        label = unquote(label, errors="surrogateescape")
    return True, name, version, label or None, verb or "", verb if method == "GET" else ""


def status_json(states: list[tuple[int, str]]) -> str:
    """GetModelStatusResponse as TF Serving prints it (ToJsonString, http_rest_api_util.cc)."""
    from google.protobuf import json_format
    from tensorflow_serving.apis import get_model_status_pb2

    response = get_model_status_pb2.GetModelStatusResponse()
    for version, state in states:
        entry = response.model_version_status.add(version=version)
        entry.state = get_model_status_pb2.ModelVersionStatus.State.Value(state)
        entry.status.SetInParent()
    return json_format.MessageToJson(response, indent=1, always_print_fields_with_no_presence=True)


def create_app(repository: ModelRepository, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES):
    """A WSGI application answering TF Serving's REST API from `repository`, case by case as
    HttpRestApiHandler::ProcessRequest (tensorflow_serving/model_servers/http_rest_api_handler.cc)."""
    from werkzeug.wrappers import Request, Response

    def process(request: Request) -> str:
        method, path = request.method, _raw_path(request.environ)
        matched, name, version, label, verb, subresource = parse_model_path(method, path)
        malformed = ServingError(f"Malformed request: {method} {path}")
        if method == "POST" and matched and verb in ("predict", "classify", "regress"):
            body = parse_json(read_body(request.environ, max_request_bytes))
            if verb != "predict":  # deliberate difference: only predict is implemented
                repository.get(name, version, label)
                raise ServingError(f"modelzoo serve does not implement :{verb}", 501, 12)
            signature_name(body)  # FillSignature comes before the model lookup
            with repository.lease(name, version, label) as servable:
                return servable.predict_json(body)
        request.environ.get(READ_DONE, lambda: None)()
        if method != "GET" or not matched:
            raise malformed
        if not name:
            raise ServingError("Missing model name in request.")
        if subresource == "metadata":
            return repository.get(name, version, label).metadata_json()
        return status_json(repository.status(name, version))

    def reply(text: str, code: int = 200) -> Response:
        return Response(
            text.encode("utf-8", "surrogateescape"), status=code, mimetype="application/json"
        )

    @Request.application
    def application(request: Request) -> Response:
        try:
            if not _HANDLED.fullmatch(_raw_path(request.environ)):
                request.environ.get(READ_DONE, lambda: None)()
                return reply(error_json("Not Found"), 404)  # TF Serving: no handler, a bare 404
            if request.method == "OPTIONS":  # a CORS preflight (http_server.cc)
                request.environ.get(READ_DONE, lambda: None)()
                if re.search(r"https?://", request.headers.get("Origin", "")):
                    return reply("")
                raise ServingError("Origin header is missing in CORS preflight", 400, 9)
            return reply(process(request))
        except ServingError as error:
            return reply(error_json(str(error)), error.status)
        except Exception as error:  # noqa: BLE001 -- a bad request never takes the server down
            log.exception("internal error")
            return reply(error_json(f"internal error: {type(error).__name__}: {error}"), 500)

    return application


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
        model_config: dict[str, ModelPolicy] | None = None,
    ):
        """`grpc_port`: also answer TF Serving's gRPC API there (0: any free port; None: no gRPC).
        `model_config`: the models, version policies and labels of a model config file."""
        self.repository = ModelRepository(export_dir, poll_seconds, model_config)
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
