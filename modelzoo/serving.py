"""TF Serving's REST predict API: a client, and a local stand-in server for development and tests.

The server (`modelzoo serve saved_models/`) loads each model's newest version the way TF Serving
does (a TF session by tag `serve`), answers TF Serving's REST routes with its JSON formats and
error codes, and picks up new versions without a restart. Production is TF Serving itself; code
written against this server works unchanged there.

    GET  /v1/models/NAME[/versions/N]             version status
    GET  /v1/models/NAME[/versions/N]/metadata    signature_def map
    POST /v1/models/NAME[/versions/N]:predict     {"instances": rows} or {"inputs": columns}
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelzoo import storage, tfserving
from modelzoo.errors import ModelzooError
from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import numpy as np

DEFAULT_SIGNATURE = "serving_default"
DEFAULT_MAX_REQUEST_BYTES = 16 * 1024 * 1024
log = logging.getLogger("modelzoo.serving")

#: TF's DataType names (as TF Serving's JSON metadata spells them) and their NumPy dtypes.
DTYPES = {
    "DT_FLOAT": "float32",
    "DT_DOUBLE": "float64",
    "DT_HALF": "float16",
    "DT_INT8": "int8",
    "DT_INT16": "int16",
    "DT_INT32": "int32",
    "DT_INT64": "int64",
    "DT_UINT8": "uint8",
    "DT_UINT16": "uint16",
    "DT_UINT32": "uint32",
    "DT_UINT64": "uint64",
    "DT_BOOL": "bool",
    "DT_STRING": "object",
}


#: TF status codes (tensorflow/core/protobuf/error_codes.proto) as TF Serving answers them over
#: HTTP (ToHTTPStatusCode in tensorflow_serving/model_servers/http_server.cc); others are 500.
_HTTP_STATUS = {
    1: 499,
    3: 400,
    4: 504,
    5: 404,
    6: 409,
    7: 403,
    8: 429,
    9: 400,
    10: 409,
    11: 400,
    12: 501,
    14: 503,
    16: 401,
}


class ServingError(ModelzooError):
    """A request TF Serving would refuse, with the HTTP status it would answer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------
# Signatures: read from TF Serving's metadata JSON, so the client works against either server.


@dataclass(frozen=True)
class Signature:
    """A serving signature's inputs and outputs (shapes without the batch dimension)."""

    name: str
    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]

    @classmethod
    def from_metadata(cls, metadata: dict, name: str = DEFAULT_SIGNATURE) -> Signature:
        """From a GET .../metadata answer (TF Serving's JSON form of its SignatureDefMap)."""
        signatures = metadata.get("metadata", {}).get("signature_def", {}).get("signature_def", {})
        if name not in signatures:
            raise ServingError(f"the model has no signature {name!r}; it has {sorted(signatures)}")

        def specs(tensors: dict) -> dict[str, TensorSpec]:
            out = {}
            for key, info in tensors.items():
                dims = [int(d["size"]) for d in info.get("tensor_shape", {}).get("dim", [])]
                shape = tuple(None if d < 0 else d for d in dims[1:])
                out[key] = TensorSpec.of_example(
                    key, shape, DTYPES.get(info.get("dtype", ""), "float32")
                )
            return out

        signature = signatures[name]
        return cls(name, specs(signature.get("inputs", {})), specs(signature.get("outputs", {})))

    @property
    def input(self) -> TensorSpec:
        """The only input (every zoo model has one)."""
        if len(self.inputs) != 1:
            raise ServingError(
                f"signature {self.name!r} takes {len(self.inputs)} inputs; give them by name"
            )
        return next(iter(self.inputs.values()))


# ---------------------------------------------------------------------------------------------
# The JSON request and response formats of TF Serving's REST API.


def encode_json(value: Any) -> Any:
    """A NumPy value as JSON: nested lists, bytes as {"b64": ...} (TF Serving's binary form)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return encode_json(value.tolist()) if value.dtype.kind in "OSU" else value.tolist()
    if isinstance(value, (list, tuple)):
        return [encode_json(v) for v in value]
    if isinstance(value, bytes):
        return {"b64": base64.b64encode(value).decode("ascii")}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _decode_b64(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"b64"}:
            raise ServingError(
                f'an object where a value was expected: {json.dumps(value)[:80]}; only {{"b64": ...}} is allowed'
            )
        try:
            return base64.b64decode(value["b64"], validate=True)
        except (ValueError, TypeError):
            raise ServingError("a b64 value is not valid base64") from None
    if isinstance(value, list):
        return [_decode_b64(v) for v in value]
    return value


#: Arrays and objects nested deeper than this are refused before parsing (never a RecursionError).
MAX_JSON_DEPTH = 64
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
#: The largest integer a float type holds exactly: TF Serving refuses a JSON integer above it for
#: that type (IsLosslessDecimal in tensorflow_serving/util/json_tensor.cc).
_EXACT_INTEGERS = {"float16": 2**11 - 1, "float32": 2**24 - 1, "float64": 2**53 - 1}


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings not counted), without parsing it."""
    import numpy as np

    if b'"' in body:
        body = _JSON_STRING.sub(b'""', body)
    codes = np.frombuffer(body, np.uint8)
    brackets = codes[(codes == 0x5B) | (codes == 0x7B) | (codes == 0x5D) | (codes == 0x7D)]
    if not brackets.size:
        return 0
    return int(np.cumsum(np.where((brackets == 0x5B) | (brackets == 0x7B), 1, -1)).max())


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or a 400: malformed, or nested deeper than MAX_JSON_DEPTH."""
    if json_depth(body) > MAX_JSON_DEPTH:
        raise ServingError(
            f"JSON Parse error: arrays and objects nested deeper than {MAX_JSON_DEPTH} levels"
        )
    try:
        return json.loads(body)
    except RecursionError:
        raise ServingError(
            f"JSON Parse error: arrays and objects nested deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError as error:  # UnicodeDecodeError included
        raise ServingError(f"JSON Parse error: {error}") from None


def _json_text(value: Any) -> str:
    text = json.dumps(value.decode("latin-1") if isinstance(value, bytes) else value)
    return text if len(text) <= 40 else text[:37] + "..."


def _as_tensor(value: Any, spec: TensorSpec, batched: bool, where: str) -> np.ndarray:
    """A JSON value as an array of the input's dtype and shape, or a 400 naming the contract.

    JSON types are checked as strictly as TF Serving does (tensorflow_serving/util/json_tensor.cc,
    AddValueToTensor): integers only for integer inputs (no booleans, no 1.0), booleans only for
    bool inputs, numbers for float inputs within the type's range and exact integers. NaN and
    Infinity are refused: TF Serving parses them (rapidjson kParseNanAndInfFlag) and passes them to
    the model, which answers NaN; no zoo model has a meaning for them, so the stand-in reports the
    client's bug instead.
    """
    import numpy as np

    value = _decode_b64(value)
    try:
        array = np.array(value, dtype=object)
    except ValueError:
        raise ServingError(
            f"{where}: ragged values; every example must be {spec.example()}"
        ) from None
    flat = array.ravel()
    types = set(map(type, flat))
    if types & {list, dict, tuple}:
        raise ServingError(f"{where}: ragged values; every example must be {spec.example()}")
    expected = spec.shape if batched else spec.example_shape
    if array.ndim != len(expected) or any(
        d is not None and d != n for d, n in zip(expected, array.shape)
    ):
        shape = list(array.shape[1:] if batched else array.shape)
        raise ServingError(
            f"{where}: an example of shape {shape} where the model takes {spec.example()}"
        )
    kind = "O" if spec.dtype == "object" else np.dtype(spec.dtype).kind
    allowed = {"O": {str, bytes}, "b": {bool}, "i": {int}, "u": {int}, "f": {int, float}}.get(
        kind, {int, float}
    )
    if not types <= allowed:
        bad = next(v for v in flat if type(v) not in allowed)
        raise ServingError(
            f"{where}: JSON value {_json_text(bad)} is not of type {spec.dtype}; the model takes {spec.example()}"
        )
    if kind == "O":
        return array
    if kind in "iu":
        info = np.iinfo(spec.dtype)
        if min(flat) < info.min or max(flat) > info.max:
            raise ServingError(
                f"{where}: values outside {spec.dtype}'s range [{info.min}, {info.max}] for {spec.example()}"
            )
    elif kind == "f":
        exact = _EXACT_INTEGERS.get(spec.dtype, 2**53 - 1)
        inexact = (
            next((v for v in flat if type(v) is int and abs(v) > exact), None)
            if int in types
            else None
        )
        if inexact is not None:
            raise ServingError(
                f"{where}: cannot convert JSON value {_json_text(inexact)} to {spec.dtype} without loss of precision"
            )
        numbers = flat.astype(np.float64)
        if not np.isfinite(numbers).all():
            bad = numbers[~np.isfinite(numbers)][0]
            raise ServingError(
                f"{where}: {bad} is not a number the model can take ({spec.example()}); send finite values"
            )
        if np.abs(numbers).max() > np.finfo(spec.dtype).max:
            bad = numbers[np.abs(numbers) > np.finfo(spec.dtype).max][0]
            raise ServingError(
                f"{where}: cannot convert JSON value {bad:g} to {spec.dtype} without loss of precision "
                f"(outside {spec.dtype}'s range)"
            )
        return numbers.astype(spec.dtype).reshape(array.shape)
    return flat.astype(spec.dtype).reshape(array.shape)


def parse_predict_request(body: Any, signature: Signature) -> tuple[dict[str, np.ndarray], bool]:
    """({input key: batch}, row_format) from a predict request's JSON body."""
    if not isinstance(body, dict):
        raise ServingError('the request body must be a JSON object with "instances" or "inputs"')
    if ("instances" in body) == ("inputs" in body):
        raise ServingError('give exactly one of "instances" (rows) or "inputs" (columns)')
    names = list(signature.inputs)
    if "instances" in body:
        rows = body["instances"]
        if not isinstance(rows, list) or not rows:
            raise ServingError('"instances" must be a non-empty list of examples')
        named = [isinstance(r, dict) and "b64" not in r for r in rows]
        if any(named) != all(named):
            raise ServingError('"instances" mixes named ({input: value}) and bare examples')
        if not named[0]:
            if len(names) != 1:
                raise ServingError(
                    f"the signature takes inputs {names}: give each instance as an object keyed by them"
                )
            rows = [{names[0]: r} for r in rows]
        for index, row in enumerate(rows):
            if set(row) != set(names):
                raise ServingError(
                    f"instance {index}: keys {sorted(row)}, the signature takes {names}"
                )
        batch = {
            key: _as_tensor(
                [row[key] for row in rows], spec, batched=True, where=f"instances ({key})"
            )
            for key, spec in signature.inputs.items()
        }
        return batch, True
    columns = body["inputs"]
    if isinstance(columns, dict) and "b64" not in columns:
        if set(columns) != set(names):
            raise ServingError(f'"inputs" names {sorted(columns)}, the signature takes {names}')
    elif len(names) == 1:
        columns = {names[0]: columns}
    else:
        raise ServingError(
            f'the signature takes inputs {names}: give "inputs" as an object keyed by them'
        )
    batch = {
        key: _as_tensor(columns[key], spec, batched=True, where=f"inputs ({key})")
        for key, spec in signature.inputs.items()
    }
    if len({len(v) for v in batch.values()}) != 1:
        raise ServingError('"inputs" have different batch sizes')
    return batch, False


def format_predict_response(outputs: dict[str, np.ndarray], row_format: bool) -> dict:
    """TF Serving's answer: "predictions" per row or "outputs" per column; a lone output unnamed."""
    if row_format:
        if len(outputs) == 1:
            return {"predictions": encode_json(next(iter(outputs.values())))}
        count = len(next(iter(outputs.values())))
        return {
            "predictions": [
                {k: encode_json(v[i]) for k, v in outputs.items()} for i in range(count)
            ]
        }
    if len(outputs) == 1:
        return {"outputs": encode_json(next(iter(outputs.values())))}
    return {"outputs": {k: encode_json(v) for k, v in outputs.items()}}


# ---------------------------------------------------------------------------------------------
# Loading: one version in a TF session, as TF Serving loads it.


class Servable:
    """One model version loaded by tag `serve` into its own TF session (thread-safe to run)."""

    def __init__(self, name: str, version: int, path: Path):
        import tensorflow as tf
        from google.protobuf import json_format
        from tensorflow.python.util import deprecation
        from tensorflow_serving.apis import get_model_metadata_pb2

        self.name, self.version, self.path = name, version, path
        self.graph = tf.Graph()
        self.session = tf.compat.v1.Session(graph=self.graph)
        #: Warmup requests replayed on load (assets.extra/tf_serving_warmup_requests), as TF Serving does.
        self.warmup_replayed = 0
        try:
            with deprecation.silence():  # the v1 loader is the one TF Serving's C++ side matches
                meta_graph = tf.compat.v1.saved_model.loader.load(
                    self.session, ["serve"], str(path)
                )
            if (
                DEFAULT_SIGNATURE in meta_graph.signature_def
            ):  # warm up as TF Serving does before serving
                for request in tfserving.read_warmup_requests(path):
                    self._run_proto(meta_graph.signature_def[DEFAULT_SIGNATURE], request)
                    self.warmup_replayed += 1
        except Exception:
            self.session.close()
            raise
        self.signature_defs = {
            k: v for k, v in meta_graph.signature_def.items() if not k.startswith("__")
        }
        signature_map = get_model_metadata_pb2.SignatureDefMap()
        for key, value in meta_graph.signature_def.items():
            signature_map.signature_def[key].CopyFrom(value)
        self.metadata = {
            "model_spec": {"name": name, "signature_name": "", "version": str(version)},
            "metadata": {
                "signature_def": json_format.MessageToDict(
                    signature_map, preserving_proto_field_name=True
                )
            },
        }
        self.signatures = {
            key: Signature.from_metadata(self.metadata, key) for key in self.signature_defs
        }

    def _run_proto(self, signature_def, inputs: dict) -> None:
        feeds = {signature_def.inputs[k].name: v for k, v in inputs.items()}
        self.session.run({k: v.name for k, v in signature_def.outputs.items()}, feeds)

    def signature(self, name: str | None) -> Signature:
        name = name or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise ServingError(
                f'Serving signature name: "{name}" not found in signature def; the model has {sorted(self.signatures)}'
            )
        return self.signatures[name]

    def run(
        self, inputs: dict[str, np.ndarray], signature_name: str | None = None
    ) -> dict[str, np.ndarray]:
        """Run a signature on a batch: {input key: array} -> {output key: array}."""
        import tensorflow as tf

        signature = self.signature(signature_name)
        definition = self.signature_defs[signature.name]
        feeds = {definition.inputs[key].name: value for key, value in inputs.items()}
        fetches = {key: info.name for key, info in definition.outputs.items()}
        try:
            return self.session.run(fetches, feeds)
        except tf.errors.InvalidArgumentError as error:
            raise ServingError(error.message.splitlines()[0]) from None
        except (
            tf.errors.OpError
        ) as error:  # the status's HTTP code, as ToHTTPStatusCode in model_servers/http_server.cc
            raise ServingError(
                error.message.strip() or type(error).__name__,
                _HTTP_STATUS.get(error.error_code, 500),
            ) from None

    def predict_json(self, body: Any) -> dict:
        """Answer a REST predict request body as TF Serving would."""
        name = body.get("signature_name") if isinstance(body, dict) else None
        if (
            isinstance(body, dict) and "signature_name" in body and not isinstance(name, str)
        ):  # FillSignature in tensorflow_serving/util/json_tensor.cc
            raise ServingError(
                f"JSON Value: {_json_text(name)} not formatted correctly. 'signature_name' key must be a string value."
            )
        signature = self.signature(name)
        inputs, row_format = parse_predict_request(body, signature)
        return format_predict_response(self.run(inputs, signature.name), row_format)

    def close(self) -> None:
        self.session.close()


def load_local(path: str | os.PathLike) -> Servable:
    """Load saved_models/NAME (its newest version) or saved_models/NAME/VERSION for local prediction."""
    from modelzoo import verify

    try:
        folder = verify.version_dir(path)
    except ModelzooError:
        raise ServingError(
            f"{path} holds no SavedModel; give saved_models/NAME or saved_models/NAME/VERSION", 404
        ) from None
    version = storage.parse_version(folder.name)
    return Servable(
        folder.parent.name if version is not None else folder.name, version or 0, folder
    )


# ---------------------------------------------------------------------------------------------
# The model repository: the newest complete version of every model under a folder.


def _snapshot(folder: Path) -> tuple:
    """(path, size, mtime) of every file below a version folder: unchanged over a poll = not being written."""
    entries = []
    for root, _, files in os.walk(folder):
        for file in files:
            stat = (Path(root) / file).stat()
            entries.append(
                (os.path.relpath(Path(root) / file, folder), stat.st_size, stat.st_mtime_ns)
            )
    return tuple(sorted(entries))


class ModelRepository:
    """Serves the newest version of each model folder under `root` (TF Serving's "latest" policy).

    A version is loaded once its folder has `saved_model.pb` and has not changed between two polls;
    one that fails to load (half-copied, corrupt) is logged, retried when its files change, and
    never replaces the version being served.
    """

    def __init__(self, root: str | os.PathLike, poll_seconds: float = 1.0):
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise ModelzooError(
                f"{self.root} is not a folder; give the export folder, e.g. saved_models/"
            )
        self.poll_seconds = poll_seconds
        self._served: dict[str, Servable] = {}
        self._seen: dict[tuple[str, int], tuple] = {}
        self._failed: dict[tuple[str, int], tuple[tuple, str]] = {}
        self._skipped: set[tuple[str, str]] = set()
        self._leases: dict[Servable, int] = {}  # requests running on each version
        self._retired: set[Servable] = set()  # replaced versions that requests still hold
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self, settle: bool = True) -> None:
        """Look for new versions once; with `settle`, load only versions unchanged since the last look."""
        for folder in sorted(
            p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")
        ):
            try:
                self._refresh_model(folder, settle)
            except Exception as error:  # noqa: BLE001 -- one model's trouble never stops the others
                log.warning("cannot scan %s: %s: %s", folder, type(error).__name__, error)

    def _refresh_model(self, folder: Path, settle: bool) -> None:
        skipped: list[str] = []
        versions = storage.version_folders(folder, skipped)
        for name in skipped:
            if (folder.name, name) not in self._skipped:
                self._skipped.add((folder.name, name))
                log.info(
                    "%s: ignoring folder %r, not a version (TF Serving's versions are ASCII digits)",
                    folder.name,
                    name,
                )
        current = self._served.get(folder.name)
        for version, path in sorted(versions.items(), reverse=True):
            if current is not None and version <= current.version:
                break
            if not (path / "saved_model.pb").is_file():
                continue
            if self._try_load(folder.name, version, path, settle):
                break

    def _try_load(self, name: str, version: int, path: Path, settle: bool) -> bool:
        key = (name, version)
        try:
            snapshot = _snapshot(path)
        except OSError:
            return False
        previous, self._seen[key] = self._seen.get(key), snapshot
        if settle and previous != snapshot:
            return False  # still being written, or first sight: look again next poll
        if key in self._failed and self._failed[key][0] == snapshot:
            return False
        try:
            servable = Servable(name, version, path)
        except Exception as error:  # noqa: BLE001 -- any load failure keeps the old version serving
            message = (
                str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            )
            self._failed[key] = (snapshot, message)
            log.warning("not serving %s version %d: %s", name, version, message)
            return False
        with self._lock:
            old, self._served[name] = self._served.get(name), servable
            close_old = old is not None and self._retire(old)
        self._failed.pop(key, None)
        log.info("serving %s version %d from %s", name, version, path)
        if close_old:
            old.close()
        return True

    def _retire(self, servable: Servable) -> bool:
        """Mark a version no longer served (lock held); True if no request holds it, so close it now.

        Otherwise the last request to release it closes it: a version switch never fails a request
        in flight, as TF Serving unloads a version only once no ServableHandle refers to it
        (tensorflow_serving/core/servable_handle.h).
        """
        if self._leases.get(servable):
            self._retired.add(servable)
            return False
        return True

    @contextmanager
    def lease(self, name: str, version: int | None = None) -> Iterator[Servable]:
        """The served version of `name` (or `version`), kept open until the `with` block ends."""
        with self._lock:
            servable = self._find(name, version)
            self._leases[servable] = self._leases.get(servable, 0) + 1
        try:
            yield servable
        finally:
            with self._lock:
                count = self._leases.pop(servable) - 1
                if count:
                    self._leases[servable] = count
                close = not count and servable in self._retired
                if close:
                    self._retired.discard(servable)
            if close:
                servable.close()

    def start(self) -> None:
        """Load what is there now, then poll for new versions in a background thread."""
        self.refresh(settle=False)
        self._thread = threading.Thread(
            target=self._poll, name="modelzoo-model-poller", daemon=True
        )
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception as error:  # noqa: BLE001 -- the poller outlives any one bad poll
                log.warning("cannot scan %s: %s: %s", self.root, type(error).__name__, error)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            idle = [servable for servable in self._served.values() if self._retire(servable)]
            self._served.clear()
        for servable in idle:
            servable.close()

    def models(self) -> dict[str, int]:
        """{name: served version}."""
        with self._lock:
            return {name: s.version for name, s in sorted(self._served.items())}

    def get(self, name: str, version: int | None = None) -> Servable:
        """The served version (for its metadata; run it inside `lease`, which keeps it open)."""
        with self._lock:
            return self._find(name, version)

    def _find(self, name: str, version: int | None) -> Servable:
        servable = self._served.get(name)
        if servable is None:
            raise ServingError(
                f"Servable not found for request: Latest({name})"
                if version is None
                else f"Servable not found for request: Specific({name}, {version})",
                404,
            )
        if version is not None and version != servable.version:
            raise ServingError(f"Servable not found for request: Specific({name}, {version})", 404)
        return servable

    def status(self, name: str, version: int | None = None) -> dict:
        """The GET /v1/models/NAME answer: the state of the served version."""
        with self._lock:
            servable = self._served.get(name)
        if servable is None:
            raise ServingError(f"Could not find any versions of model {name}", 404)
        if version is not None and version != servable.version:
            raise ServingError(f"Could not find version {version} of model {name}", 404)
        return {
            "model_version_status": [
                {
                    "version": str(servable.version),
                    "state": "AVAILABLE",
                    "status": {"error_code": "OK", "error_message": ""},
                }
            ]
        }


# ---------------------------------------------------------------------------------------------
# The HTTP surface (werkzeug).


#: The request is cut off when its headers and body have not arrived within this many seconds
#: (TF Serving's --rest_api_timeout_in_ms defaults to 30000).
DEFAULT_REQUEST_TIMEOUT = 30.0
#: Worker threads answering requests (TF Serving's --rest_api_num_threads: 4 per CPU).
DEFAULT_WORKERS = min(32, max(8, 4 * (os.cpu_count() or 2)))
#: Connections accepted beyond the busy workers; more get 503 at once.
DEFAULT_MAX_PENDING = 128
_READ_DONE, _TIMED_OUT = "modelzoo.read_done", "modelzoo.timed_out"


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
        if isinstance(error, TimeoutError) or environ.get(_TIMED_OUT, lambda: False)():
            raise ServingError("request timeout: the body did not arrive in time", 408) from None
        raise ServingError(
            "the request body ended early or is not valid chunked encoding"
        ) from None
    environ.get(_READ_DONE, lambda: None)()
    return b"".join(parts)


def create_app(repository: ModelRepository, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES):
    """A WSGI application answering TF Serving's REST routes from `repository`."""
    from werkzeug.exceptions import HTTPException
    from werkzeug.routing import BaseConverter, Map, Rule
    from werkzeug.wrappers import Request, Response

    class ModelName(BaseConverter):
        regex = r"[^/:]+"

    urls = Map(
        [
            Rule("/v1/models/<model:name>", endpoint="status", methods=["GET"]),
            Rule(
                "/v1/models/<model:name>/versions/<int:version>", endpoint="status", methods=["GET"]
            ),
            Rule("/v1/models/<model:name>/metadata", endpoint="metadata", methods=["GET"]),
            Rule(
                "/v1/models/<model:name>/versions/<int:version>/metadata",
                endpoint="metadata",
                methods=["GET"],
            ),
            Rule("/v1/models/<model:name>:predict", endpoint="predict", methods=["POST"]),
            Rule(
                "/v1/models/<model:name>/versions/<int:version>:predict",
                endpoint="predict",
                methods=["POST"],
            ),
        ],
        converters={"model": ModelName},
    )

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
                request.environ.get(_READ_DONE, lambda: None)()
            return reply(handlers[endpoint](request, **arguments))
        except ServingError as error:
            return reply({"error": str(error)}, error.status)
        except HTTPException as error:
            return reply({"error": error.description or error.name}, error.code or 500)
        except Exception as error:  # noqa: BLE001 -- a bad request never takes the server down
            log.exception("internal error")
            return reply({"error": f"internal error: {type(error).__name__}: {error}"}, 500)

    return application


class _Deadlines:
    """One thread that cuts off connections whose request has not been read by its deadline.

    A per-read socket timeout alone lets a client that sends a byte now and then hold a worker
    for ever; this bounds the whole read of headers and body.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._due: dict[Any, float] = {}
        self._expired: set = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="modelzoo-request-deadlines", daemon=True
        )
        self._thread.start()

    def arm(self, connection) -> None:
        with self._lock:
            self._due[connection] = time.monotonic() + self.seconds

    def disarm(self, connection) -> None:
        with self._lock:
            self._due.pop(connection, None)

    def forget(self, connection) -> None:
        with self._lock:
            self._due.pop(connection, None)
            self._expired.discard(connection)

    def expired(self, connection) -> bool:
        with self._lock:
            return connection in self._expired

    def _run(self) -> None:
        import socket

        while not self._stop.wait(min(0.1, self.seconds / 4)):
            now = time.monotonic()
            with self._lock:
                late = [connection for connection, due in self._due.items() if due <= now]
                for connection in late:
                    del self._due[connection]
                    self._expired.add(connection)
            for connection in late:
                try:
                    connection.shutdown(
                        socket.SHUT_RD
                    )  # a blocked read returns at once; a reply can still be written
                except OSError:
                    pass

    def stop(self) -> None:
        self._stop.set()


def _make_http_server(
    host: str, port: int, app, workers: int, request_timeout: float, max_pending: int
):
    """A werkzeug server whose requests run on a fixed pool of `workers` threads, each read within `request_timeout`."""
    from concurrent.futures import ThreadPoolExecutor
    from functools import partial

    from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler

    deadlines = _Deadlines(request_timeout)

    class Handler(WSGIRequestHandler):
        timeout = (
            request_timeout + 5
        )  # each socket operation; the deadline cuts a slow read off first

        def setup(self) -> None:
            super().setup()
            deadlines.arm(self.connection)

        def make_environ(self) -> dict:
            environ = super().make_environ()
            environ[_READ_DONE] = partial(deadlines.disarm, self.connection)
            environ[_TIMED_OUT] = partial(deadlines.expired, self.connection)
            return environ

        def finish(self) -> None:
            deadlines.forget(self.connection)
            super().finish()

    class PooledServer(BaseWSGIServer):
        multithread = True

        def __init__(self) -> None:
            self.deadlines = deadlines
            self.pool = ThreadPoolExecutor(workers, thread_name_prefix="modelzoo-http")
            self.slots = threading.BoundedSemaphore(workers + max_pending)
            super().__init__(host, port, app, handler=Handler)

        def process_request(self, request, client_address) -> None:
            if not self.slots.acquire(blocking=False):
                self.refuse(request)
                return
            try:
                self.pool.submit(self.work, request, client_address)
            except RuntimeError:  # shutting down
                self.slots.release()
                self.shutdown_request(request)

        def work(self, request, client_address) -> None:
            try:
                self.finish_request(request, client_address)
            except Exception:  # noqa: BLE001 -- as socketserver does, log and drop the connection
                self.handle_error(request, client_address)
            finally:
                self.shutdown_request(request)
                self.slots.release()

        def refuse(self, request) -> None:
            body = b'{"error": "server busy: too many connections waiting; try again"}\n'
            try:
                request.setblocking(False)
                request.sendall(
                    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
                )
            except OSError:
                pass
            self.shutdown_request(request)

        def server_close(self) -> None:
            super().server_close()
            deadlines.stop()
            self.pool.shutdown(wait=False, cancel_futures=True)

    try:
        return PooledServer()
    except BaseException:
        deadlines.stop()
        raise


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
    ):
        self.repository = ModelRepository(export_dir, poll_seconds)
        self.repository.start()
        try:
            app = create_app(self.repository, max_request_bytes)
            self.http = _make_http_server(host, port, app, workers, request_timeout, max_pending)
        except OSError as error:
            self.repository.stop()
            raise ModelzooError(
                f"cannot listen on {host}:{port} ({error.strerror}); choose another --port"
            ) from None
        self.url = f"http://{host if ':' not in host else f'[{host}]'}:{self.http.server_port}"

    def serve_forever(self) -> None:
        try:
            self.http.serve_forever()
        finally:
            self.repository.stop()

    def start_background(self) -> threading.Thread:
        """Serve from a daemon thread (tests, notebooks); stop with `shutdown()`."""
        thread = threading.Thread(
            target=self.http.serve_forever, name="modelzoo-serve", daemon=True
        )
        thread.start()
        return thread

    def shutdown(self) -> None:
        self.http.shutdown()
        self.http.server_close()
        self.repository.stop()


# ---------------------------------------------------------------------------------------------
# The client.


def predict_request(inputs: dict[str, np.ndarray], signature: Signature) -> dict:
    """The REST predict body for a batch: {"signature_name": ..., "instances": rows} (one row per example)."""
    count = len(next(iter(inputs.values())))
    rows = [{key: encode_json(value[i]) for key, value in inputs.items()} for i in range(count)]
    if len(inputs) == 1:
        rows = [next(iter(row.values())) for row in rows]
    return {"signature_name": signature.name, "instances": rows}


class Client:
    """Talks to TF Serving's REST API (or `modelzoo serve`) for one model."""

    def __init__(self, url: str, model: str, version: int | None = None, timeout: float = 30.0):
        import requests

        self.base = (
            url.rstrip("/")
            + f"/v1/models/{model}"
            + (f"/versions/{version}" if version is not None else "")
        )
        self.url, self.timeout = url, timeout
        self.session = requests.Session()

    def _call(self, method: str, path: str, **kwargs) -> dict:
        import requests

        try:
            response = self.session.request(
                method, self.base + path, timeout=self.timeout, **kwargs
            )
        except requests.RequestException as error:
            raise ModelzooError(
                f"cannot reach a model server at {self.url} ({type(error).__name__}); "
                "start TF Serving or `modelzoo serve saved_models/`"
            ) from None
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": response.text.strip()[:200]}
        if response.status_code != 200:
            raise ServingError(
                f"{self.base + path}: HTTP {response.status_code}: {payload.get('error', payload)}",
                response.status_code,
            )
        return payload

    def status(self) -> dict:
        return self._call("GET", "")

    def metadata(self) -> dict:
        return self._call("GET", "/metadata")

    def signature(self, name: str = DEFAULT_SIGNATURE) -> Signature:
        return Signature.from_metadata(self.metadata(), name)

    def predict_json(self, body: dict) -> dict:
        return self._call("POST", ":predict", json=body)

    def predict(self, inputs: dict[str, np.ndarray], signature: Signature) -> dict[str, np.ndarray]:
        """Send a batch as "instances" rows; return {output key: array}."""
        import numpy as np

        predictions = self.predict_json(predict_request(inputs, signature))["predictions"]
        if len(signature.outputs) == 1:
            return {next(iter(signature.outputs)): np.asarray(predictions)}
        return {key: np.asarray([row[key] for row in predictions]) for key in signature.outputs}


def wait_until_ready(url: str, model: str, timeout: float = 30.0) -> None:
    """Poll GET /v1/models/MODEL until it answers 200 (a server starting up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            Client(url, model, timeout=2).status()
            return
        except ModelzooError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
