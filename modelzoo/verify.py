"""Servability check: would TensorFlow Serving load this SavedModel and answer like Keras does?

`tf.saved_model.load` takes the object-graph path and misses real failures (a Keras 3 model
written by `tf.saved_model.save` loads there and fails in TF Serving with "Could not find
variable"). This check loads the export the way TF Serving does, into a TF session by tag
`serve` (the v1 session loader, run in a fresh process), runs `serving_default` on recorded
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
        _check_session(check, export, signature)
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


def _check_session(check, export: Path, signature) -> None:
    """Load and run in a fresh process as TF Serving does; replay the warmup; compare with Keras."""
    import numpy as np

    samples = export / "assets.extra" / SAMPLES_FILE
    if not samples.is_file():
        check(
            "session load and run",
            False,
            f"no recorded samples ({samples}); export with modelzoo to record them",
        )
        return
    recorded = np.load(samples)
    # The child sends its outputs back through its stdout: no temporary file to leave behind if
    # either process is killed.
    result = subprocess.run(
        [sys.executable, "-m", "modelzoo.verify", str(export), str(samples)], capture_output=True
    )
    if result.returncode != 0:
        reason = _last_error_line(result.stderr.decode(errors="replace"))
        check("session load and run", False, f"the session loader TF Serving uses failed: {reason}")
        return
    served = dict(np.load(io.BytesIO(result.stdout)))
    check(
        "session load and run",
        True,
        f"loaded by tag 'serve' in a fresh process; ran {len(recorded['inputs'])} sample inputs",
    )
    replayed = int(served.pop("warmup:replayed"))
    check(
        "warmup replay",
        replayed > 0,
        f"replayed {replayed} warmup requests through the session"
        if replayed
        else "no assets.extra/tf_serving_warmup_requests: TF Serving would answer the first requests cold",
    )
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


def require_servable(path: str | Path, **options) -> list[Check]:
    """`verify`, raising VerifyError naming the failed checks."""
    checks = verify(path, **options)
    failed = [c for c in checks if not c.ok]
    if failed:
        raise VerifyError(
            f"{path} is not servable: " + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )
    return checks


def _last_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [
        line for line in lines if "Error" in line or "Could not" in line or "not find" in line
    ]
    return (errors or lines or ["no output"])[-1][:500]


def _session_run(export: str, samples: str) -> None:
    """In a fresh process: load `export` as TF Serving does and run serving_default on the samples.

    `serving.Servable` loads by tag 'serve' into a v1 session and replays the warmup requests; a
    failing load or request fails this process. The outputs go to stdout as an .npz; anything
    else written to stdout (by Python or C++) is sent to stderr.
    """
    import numpy as np

    results = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    from modelzoo import serving

    inputs = np.load(samples)["inputs"]
    servable = serving.Servable("verify", 0, Path(export))
    try:
        (input_key,) = servable.signature_defs["serving_default"].inputs
        outputs = servable.run({input_key: inputs})
    finally:
        servable.close()
    buffer = io.BytesIO()
    np.savez(buffer, **outputs, **{"warmup:replayed": servable.warmup_replayed})
    results.write(buffer.getvalue())
    results.close()


if __name__ == "__main__":
    from modelzoo.quiet import quiet_tensorflow

    quiet_tensorflow()  # the parent reads this process's stderr for its one error line
    _session_run(*sys.argv[1:3])
