"""Servability check: would TensorFlow Serving load this SavedModel and answer like Keras does?

`tf.saved_model.load` takes the object-graph path and misses real failures (a Keras 3 model
written by `tf.saved_model.save` loads there and fails in TF Serving with "Could not find
variable"). This check loads the export the way TF Serving does, into a TF session by tag
`serve` (through TensorFlow's C API, `TF_LoadSessionFromSavedModel`, the C++ loader TF Serving
uses, in a fresh process; the v1 session loader where the C API is not shipped), runs `serving_default` on recorded
sample inputs and compares with the Keras outputs recorded at export time. It also checks the
signature's contract: tag set exactly {serve}, method tensorflow/serving/predict, any batch
size, chosen (not generated) keys, no denylisted ops, an integer version folder, and replays
the warmup requests through the session, as TF Serving does on load.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from modelzoo import storage
from modelzoo.errors import ModelzooError

SAMPLES_FILE = "verification.npz"
PREDICT_METHOD = "tensorflow/serving/predict"
GENERATED_KEY = re.compile(r"^(keras_tensor|input|inputs|output|outputs)(_\d+)?$")
TOLERANCE = 1e-5


class VerifyError(ModelzooError):
    """A SavedModel that TF Serving would not serve as intended (exit code 1)."""


@dataclass(frozen=True)
class Check:
    """One servability check: its name, whether it passed, and what was found."""

    name: str
    ok: bool
    detail: str


def version_dir(path: str | Path) -> Path:
    """The version folder to check: `path` itself if it has a SavedModel, else its newest integer version."""
    try:
        return storage.saved_model_folder(path)
    except storage.NoSavedModel as error:
        raise VerifyError(str(error)) from None


def write_samples(export: Path, inputs, outputs: dict) -> None:
    """Record sample inputs and the Keras model's outputs for them beside the SavedModel."""
    extra = export / "assets.extra"
    extra.mkdir(exist_ok=True)
    write_samples_file(extra / SAMPLES_FILE, inputs, outputs)


def write_samples_file(path: Path, inputs, outputs: dict) -> None:
    """An .npz of the sample inputs ("inputs") and each output ("output:<key>")."""
    import numpy as np

    np.savez(path, inputs=inputs, **{f"output:{k}": v for k, v in outputs.items()})


def verify(path: str | Path, *, require_version_name: bool = True) -> list[Check]:
    """Run every check on a SavedModel folder (or the newest version under a model folder)."""
    export = version_dir(path)  # before TensorFlow loads: a wrong path is one line at once
    checks: list[Check] = []

    def check(name: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, bool(ok), detail))

    if require_version_name:
        is_version = storage.is_version_name(export.name)
        check(
            "version folder",
            is_version,
            f"{export.name!r} {'is' if is_version else 'is not'} an integer version",
        )
    model = _read_saved_model(export)
    tag_sets = [sorted(m.meta_info_def.tags) for m in model.meta_graphs]
    check("tag set", tag_sets == [["serve"]], f"tag sets {tag_sets}, expected exactly [['serve']]")
    graph = next((m for m in model.meta_graphs if list(m.meta_info_def.tags) == ["serve"]), None)
    signature = graph.signature_def.get("serving_default") if graph is not None else None
    check(
        "serving_default",
        signature is not None,
        "signature serving_default " + ("present" if signature is not None else "missing"),
    )
    if signature is not None:
        _check_signature(check, signature, graph)
        _check_session(check, export, signature, graph)
    return checks


def _read_saved_model(export: Path):
    """The SavedModel proto of `export`/saved_model.pb, or a one-line VerifyError."""
    from google.protobuf.message import DecodeError
    from tensorflow.core.protobuf import saved_model_pb2

    model = saved_model_pb2.SavedModel()
    try:
        model.ParseFromString((export / "saved_model.pb").read_bytes())
    except (OSError, DecodeError) as error:
        raise VerifyError(
            f"{export / 'saved_model.pb'} is not a readable SavedModel ({type(error).__name__}: {error})"
        ) from None
    return model


def _check_signature(check, signature, graph) -> None:
    """The signature's contract: predict method, any batch size, chosen keys, no denylisted ops."""
    from tensorflow.python.framework import meta_graph
    from tensorflow.python.tools.saved_model_cli import _OP_DENYLIST

    check(
        "method",
        signature.method_name == PREDICT_METHOD,
        f"method {signature.method_name!r}, expected {PREDICT_METHOD!r}",
    )
    tensors = {
        **{f"input {k}": v for k, v in signature.inputs.items()},
        **{f"output {k}": v for k, v in signature.outputs.items()},
    }
    fixed_batch = [
        name
        for name, info in tensors.items()
        if not info.tensor_shape.dim or info.tensor_shape.dim[0].size != -1
    ]
    check(
        "batch dimension",
        not fixed_batch,
        "any batch size" if not fixed_batch else f"fixed or unknown batch size in {fixed_batch}",
    )
    generated = [k for k in (*signature.inputs, *signature.outputs) if GENERATED_KEY.match(k)]
    check(
        "signature keys",
        not generated,
        f"inputs {sorted(signature.inputs)}, outputs {sorted(signature.outputs)}"
        + (
            f"; generated names {generated}: name the Keras input and output layers"
            if generated
            else ""
        ),
    )
    denied = sorted(_OP_DENYLIST & set(meta_graph.ops_used_by_graph_def(graph.graph_def)))
    check(
        "denylisted ops",
        not denied,
        f"none of {sorted(_OP_DENYLIST)}" if not denied else f"uses {denied}",
    )


def _check_session(check, export: Path, signature, graph) -> None:
    """Load and run in a fresh process as TF Serving does; replay the warmup; compare with Keras."""
    import numpy as np
    import tensorflow as tf

    from modelzoo import c_api_session, tfserving

    samples = export / "assets.extra" / SAMPLES_FILE
    if not samples.is_file():
        check(
            "session load and run",
            False,
            f"no recorded samples ({samples}); export with modelzoo to record them",
        )
        return
    dtypes = {
        key: tf.dtypes.as_dtype(info.dtype)
        for key, info in (*signature.inputs.items(), *signature.outputs.items())
    }
    unchecked = sorted(key for key, dtype in dtypes.items() if not dtype.is_numpy_compatible)
    unchecked += sorted(key for key, dtype in dtypes.items() if dtype == tf.string)
    if len(signature.inputs) != 1 or unchecked:
        check(
            "session load and run",
            False,
            f"serving_default has inputs {sorted(signature.inputs)} and outputs "
            f"{sorted(signature.outputs)}: this check runs one numeric input and numeric outputs"
            + (f" ({unchecked} are not)" if unchecked else ""),
        )
        return
    ((input_key, input_info),) = signature.inputs.items()
    # The samples as a client's request would arrive (converted to the input's dtype, as TF
    # Serving's REST API does); the warmup records exactly as written, as TF Serving replays them.
    with np.load(samples) as recorded_file:  # read once, closed at once
        recorded = {key: recorded_file[key] for key in recorded_file.files}
    sample_inputs = np.asarray(recorded["inputs"], dtype=dtypes[input_key].as_numpy_dtype)
    warmup, warmup_problem, not_run = _warmup_feeds(export, graph)
    # Every feed the fresh process runs, by tensor name: the samples first, then each warmup request.
    feeds = [{input_info.name: sample_inputs}, *warmup]
    fetches = [signature.outputs[key].name for key in signature.outputs]
    job = {"export": str(export), "feeds": feeds, "fetches": fetches}
    loader = LOADER or ("c_api" if c_api_session.available() else "python")
    # The child sends its outputs back through its stdout: no temporary file to leave behind if
    # either process is killed.
    result = subprocess.run(
        [sys.executable, "-m", "modelzoo.verify", loader],
        input=_npz_bytes(job),
        capture_output=True,
    )
    if result.returncode != 0:
        stderr = result.stderr.decode(errors="replace")
        if result.returncode == _REPORTED and stderr.strip():
            reason = stderr.strip().splitlines()[-1][:500]
        elif result.returncode < 0:  # killed by a signal: out of memory, a crash in C++, a user
            reason = f"the fresh process was killed by {_signal_name(-result.returncode)}"
            if stderr.strip():
                reason += f" after: {_last_error_line(stderr)}"
        else:
            reason = _last_error_line(stderr)
        check("session load and run", False, f"the session loader TF Serving uses failed: {reason}")
        if warmup_problem:
            check("warmup replay", False, warmup_problem)
        return
    runs = _from_npz_bytes(result.stdout)
    how = "TensorFlow's C API" if loader == "c_api" else "the v1 session loader"
    check(
        "session load and run",
        True,
        f"loaded by tag 'serve' through {how} in a fresh process; "
        f"ran {len(sample_inputs)} sample inputs",
    )
    check(
        "warmup replay",
        bool(warmup or not_run) and not warmup_problem,
        warmup_problem
        or (
            f"replayed {len(warmup)} warmup requests through the session"
            + (f"; {not_run} for other signatures checked, not run" if not_run else "")
            if warmup or not_run
            else f"no assets.extra/{tfserving.WARMUP_FILE}: TF Serving would answer the first "
            "requests cold"
        ),
    )
    served = dict(zip(signature.outputs, runs[0]))
    for key in signature.outputs:
        expected = recorded[f"output:{key}"] if f"output:{key}" in recorded else None
        if expected is None:
            check(f"output {key}", False, "no recorded Keras output to compare with")
            continue
        difference = (
            float(np.max(np.abs(served[key] - expected)))
            if served[key].shape == expected.shape
            else float("inf")
        )
        check(
            f"output {key}",
            difference <= TOLERANCE,
            f"max |served - Keras| = {difference:.2e} (tolerance {TOLERANCE:g})",
        )


def _warmup_feeds(export: Path, graph) -> tuple[list[dict], str, int]:
    """The warmup requests for serving_default as feeds by tensor name; what is wrong with any
    request ("" if nothing): a file that does not read, a request naming a signature the
    SavedModel lacks, or inputs or dtypes not its signature's, each of which TF Serving refuses
    on load; and how many requests name another signature (checked, not run). The requests
    that are right are still replayed."""
    import tensorflow as tf

    from modelzoo import tfserving

    try:
        requests = tfserving.read_warmup_requests(export)
    except Exception as error:  # a damaged file: TF Serving would fail the load on it
        first = (str(error).strip().splitlines() or [""])[0][:300]
        return (
            [],
            f"assets.extra/{tfserving.WARMUP_FILE} does not read: {type(error).__name__}: {first}",
            0,
        )
    feeds, problems, not_run = [], [], 0
    for number, (name, inputs) in enumerate(requests, 1):
        if name not in graph.signature_def:
            problems.append(f"request {number}: {tfserving.missing_signature(name)}")
            continue
        signature = graph.signature_def[name]
        wrong = sorted(set(inputs) ^ set(signature.inputs))
        wrong_dtype = []
        for key, array in inputs.items():
            wanted = (
                tf.dtypes.as_dtype(signature.inputs[key].dtype) if key in signature.inputs else None
            )
            if wanted is not None and array.dtype != wanted.as_numpy_dtype:
                wrong_dtype.append(f"{key} is {array.dtype}, {name} wants {wanted.name}")
        if wrong:
            problems.append(
                f"request {number} gives inputs {sorted(inputs)}, {name} has "
                f"{sorted(signature.inputs)}"
            )
        elif wrong_dtype:
            problems.append(f"request {number}: {'; '.join(wrong_dtype)}")
        elif name != tfserving.DEFAULT_SIGNATURE:
            not_run += 1
        else:
            feeds.append({signature.inputs[key].name: array for key, array in inputs.items()})
    return (
        feeds,
        "; ".join(problems[:3]) + (f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""),
        not_run,
    )


def require_servable(path: str | Path, **options) -> list[Check]:
    """`verify`, raising VerifyError naming the failed checks."""
    checks = verify(path, **options)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise VerifyError(
            f"{path} is not servable: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
    return checks


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [
        line for line in lines if "Error" in line or "Could not" in line or "not find" in line
    ]
    return (errors or lines or ["no output"])[-1][:500]


def _npz_bytes(job: dict) -> bytes:
    """A session job (export, feeds, fetches) as the bytes of one .npz: arrays stay arrays."""
    import json

    import numpy as np

    arrays, names = {}, []
    for i, feed in enumerate(job.get("feeds", [])):
        names.append(list(feed))
        arrays |= {f"feed{i}:{n}": np.asarray(array) for n, array in enumerate(feed.values())}
    for i, run in enumerate(job.get("runs", [])):
        arrays |= {f"run{i}:{n}": array for n, array in enumerate(run)}
    spec = {key: job[key] for key in ("export", "fetches") if key in job} | {"feeds": names}
    spec["runs"] = [len(run) for run in job.get("runs", [])]
    buffer = io.BytesIO()
    np.savez(buffer, spec=np.asarray(json.dumps(spec)), **arrays)
    return buffer.getvalue()


def _from_npz_bytes(data: bytes):
    """What `_npz_bytes` wrote: the job {export, feeds, fetches} or, for the child's answer, the
    list of runs (each the fetched arrays in order)."""
    import json

    import numpy as np

    loaded = np.load(io.BytesIO(data))
    spec = json.loads(str(loaded["spec"]))
    if spec["runs"]:
        return [[loaded[f"run{i}:{n}"] for n in range(size)] for i, size in enumerate(spec["runs"])]
    feeds = [
        {name: loaded[f"feed{i}:{n}"] for n, name in enumerate(names)}
        for i, names in enumerate(spec["feeds"])
    ]
    return {"export": spec["export"], "feeds": feeds, "fetches": spec["fetches"]}


#: Which loader the fresh process uses: None picks TensorFlow's C API where the installed
#: tensorflow ships it (Linux), else the v1 session loader of TensorFlow's Python package.
LOADER: str | None = None
#: The fresh process's exit code for a failure it reported as its last stderr line.
_REPORTED = 3


def _session_run(loader: str) -> None:
    """In a fresh process: load the export as TF Serving does and run every feed of the job on
    stdin (from `_npz_bytes`), the recorded samples and the warmup requests.

    "c_api" loads through TensorFlow's C API (`TF_LoadSessionFromSavedModel`, the C++ loader TF
    Serving uses, without TensorFlow's Python package); "python" through the v1 session loader.
    The fetched arrays go to stdout as an .npz; a failure is the last line on stderr and exit
    code 3. Anything else written to stdout (by Python or C++) is sent to stderr.
    """
    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        job = _from_npz_bytes(sys.stdin.buffer.read())
        if loader == "c_api":
            from modelzoo import c_api_session

            with c_api_session.CApiSession(job["export"]) as session:
                runs = [session.run(feed, job["fetches"]) for feed in job["feeds"]]
        else:
            runs = _python_session_run(job)
    except Exception as error:  # the parent reports it as the check's one line
        print(f"{type(error).__name__}: {error}".replace("\n", " "), file=sys.stderr)
        raise SystemExit(_REPORTED) from None
    results.write(_npz_bytes({"runs": runs}))
    results.close()


def _python_session_run(job: dict) -> list:
    """The job's feeds through the v1 session loader of TensorFlow's Python package."""
    from modelzoo.quiet import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf
    from tensorflow.python.util import deprecation

    graph = tf.Graph()
    with tf.compat.v1.Session(graph=graph) as session:
        with deprecation.silence():
            tf.compat.v1.saved_model.loader.load(session, ["serve"], job["export"])
        return [session.run(job["fetches"], feed_dict=feed) for feed in job["feeds"]]


if __name__ == "__main__":
    if sys.argv[1:] not in (["c_api"], ["python"]):
        raise SystemExit(
            "usage: python -m modelzoo.verify c_api|python < job.npz (verify's own child)"
        )
    _session_run(sys.argv[1])
