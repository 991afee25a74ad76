"""TF Serving's REST predict API: a client, and a local stand-in server for development and tests.

The server (`modelzoo serve saved_models/`) loads each model's newest version the way TF Serving
does (a TF session by tag `serve`), answers TF Serving's REST routes with its JSON formats and
error codes, and picks up new versions without a restart. Production is TF Serving itself; code
written against this server works unchanged there.

    GET  /v1/models/NAME[/versions/N|/labels/L]             version status
    GET  /v1/models/NAME[/versions/N|/labels/L]/metadata    signature_def map
    POST /v1/models/NAME[/versions/N|/labels/L]:predict     {"instances": rows} or {"inputs": columns}

Modules, each importing only those above it:

    protocol    ServingError and its status codes, Signature, NumPy values as JSON
    json_writer JSON text as TF Serving's rapidjson writes it: predictions, errors, quoted values
    json_parse  a request body read as TF Serving's rapidjson reads it
    json_tensor a predict body to input batches, case by case as TF Serving's json_tensor.cc
    model_config TF Serving's model config file: models, version policies, version labels
    servable    one SavedModel version loaded by tag `serve` into a TF session, and run
    repository  the served versions of every model under an export folder (newest, or a model
                config file's policies and labels), polled and hot-swapped
    pool        the werkzeug server: a fixed thread pool, per-request read deadlines, a backlog
    grpc_server TF Serving's gRPC API (Predict, GetModelMetadata, GetModelStatus) over a repository
    server      the REST routes and request limits over a repository (`modelzoo serve`), and
                the gRPC server started and stopped with it
    client      the client side (`modelzoo predict --url`)
    grpc_client the gRPC client side, with the official stubs (`modelzoo predict --grpc`)

`modelzoo serve` also answers TF Serving's gRPC API (port 8500) from the same repository.

Nothing here imports TensorFlow, grpc or werkzeug until a model is loaded or a server started.
"""

from modelzoo.serving.client import Client, predict_request, wait_until_ready
from modelzoo.serving.grpc_client import GrpcClient
from modelzoo.serving.grpc_server import DEFAULT_GRPC_PORT
from modelzoo.serving.json_parse import parse_json
from modelzoo.serving.json_tensor import fill_predict_request
from modelzoo.serving.json_writer import error_json, tensors_json
from modelzoo.serving.model_config import ModelPolicy, read_model_config
from modelzoo.serving.protocol import (
    DEFAULT_SIGNATURE,
    DTYPES,
    ServingError,
    Signature,
    encode_json,
)
from modelzoo.serving.repository import ModelRepository
from modelzoo.serving.servable import Servable, load_local
from modelzoo.serving.server import (
    DEFAULT_MAX_PENDING,
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_WORKERS,
    Server,
    create_app,
    read_body,
)

__all__ = [
    "DEFAULT_GRPC_PORT",
    "DEFAULT_MAX_PENDING",
    "DEFAULT_MAX_REQUEST_BYTES",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_SIGNATURE",
    "DEFAULT_WORKERS",
    "DTYPES",
    "GrpcClient",
    "ModelPolicy",
    "Client",
    "ModelRepository",
    "Servable",
    "Server",
    "ServingError",
    "Signature",
    "create_app",
    "encode_json",
    "error_json",
    "fill_predict_request",
    "load_local",
    "parse_json",
    "predict_request",
    "read_model_config",
    "tensors_json",
    "read_body",
    "wait_until_ready",
]
