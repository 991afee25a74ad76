"""Parity of an exported file with the Keras model, checked in a fresh process before publishing.

`check(format, file, samples)` runs `python -m modelzoo.parity` in a new interpreter, which loads
the file in its own runtime (`modelzoo.runtimes`: onnxruntime, the LiteRT interpreter) with
nothing of the exporting process around it, runs the recorded sample inputs and compares with
the Keras outputs recorded beside them (`verification.npz`, as for the SavedModel). With an
`evaluation` file (inputs and labels: the whole test split) it also measures the accuracy, which
is how an int8 model is judged: its outputs are not meant to equal the float model's.

The child prints one JSON line: {"max_abs_diff", "outputs", "accuracy", "runtime"}.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from modelzoo import verify
from modelzoo.errors import ModelzooError

#: The largest difference from the Keras outputs a float32 export may show (as `verify`).
TOLERANCE = 1e-5
#: How many examples the child runs at once over an evaluation set.
BATCH = 256


class ParityError(ModelzooError):
    """An export that does not answer as the Keras model does (exit code 1)."""


def check(
    format_name: str,
    file: str | os.PathLike,
    samples: str | os.PathLike,
    evaluation: str | os.PathLike | None = None,
    timeout: float = 600,
) -> dict[str, Any]:
    """Run the parity child for `file`; its measurements, or ParityError in one line."""
    command = [sys.executable, "-m", "modelzoo.parity", format_name, str(file), str(samples)]
    if evaluation is not None:
        command += ["--evaluation", str(evaluation)]
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=environment
        )
    except subprocess.TimeoutExpired:
        raise ParityError(
            f"{format_name} export ({Path(file).name}): its parity check took over {timeout:.0f} s"
        ) from None
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ParityError(
            f"{format_name} export ({Path(file).name}) does not load or run in its runtime: {reason}"
        )
    return json.loads(lines[-1])


#: The samples and Keras's outputs for them, beside each format's file (as in the SavedModel's
#: assets.extra).
SAMPLES_FILE = verify.SAMPLES_FILE


def record_samples(folder: Path, model, samples) -> Path:
    """Write `folder`/verification.npz (the samples and the Keras outputs for them) once; its path."""
    from modelzoo.saved_model import signature_keys

    path = Path(folder) / SAMPLES_FILE
    if not path.is_file():
        _, output_key = signature_keys(model)
        outputs = {output_key: model(samples, training=False).numpy()}
        folder.mkdir(parents=True, exist_ok=True)
        verify.write_samples_file(path, samples, outputs)
    return path


def require_close(format_name: str, file: Path, result: dict[str, Any]) -> dict[str, Any]:
    """`result` with the tolerance, or ParityError when the outputs differ from Keras's by more."""
    if not result["max_abs_diff"] <= TOLERANCE:
        worst = max(result["outputs"], key=result["outputs"].get)
        raise ParityError(
            f"{format_name} export ({file.name}) answers unlike the Keras model: output {worst!r} differs by "
            f"{result['max_abs_diff']:.3g} (tolerance {TOLERANCE:g}); not published"
        )
    return {**result, "tolerance": TOLERANCE}


def measure(
    format_name: str, file: str | os.PathLike, samples: str | os.PathLike, evaluation=None
) -> dict[str, Any]:
    """In this process: the file's outputs on the samples against Keras's, and its accuracy."""
    import numpy as np

    from modelzoo.runtimes import open_runtime

    runtime = open_runtime(format_name, file)
    recorded = np.load(samples)
    expected = {k.split(":", 1)[1]: recorded[k] for k in recorded.files if k.startswith("output:")}
    if sorted(runtime.output_names) != sorted(expected):
        raise ParityError(
            f"{Path(file).name} outputs {sorted(runtime.output_names)}, the Keras model {sorted(expected)}"
        )
    (input_name,) = runtime.input_names
    outputs = runtime.run({input_name: recorded["inputs"]})
    differences = {
        key: float(np.max(np.abs(outputs[key].astype("float64") - value)))
        for key, value in expected.items()
    }
    result: dict[str, Any] = {
        "max_abs_diff": max(differences.values()),
        "outputs": differences,
        "runtime": runtime.version(),
    }
    if evaluation is not None:
        data = np.load(evaluation)
        (output_name,) = runtime.output_names
        scores = np.concatenate(
            [
                runtime.run({input_name: data["inputs"][i : i + BATCH]})[output_name]
                for i in range(0, len(data["inputs"]), BATCH)
            ]
        )
        result["accuracy"] = accuracy(scores, data["labels"])
        result["examples"] = int(len(data["labels"]))
    return result


def accuracy(scores, labels) -> float:
    """The share of right answers: argmax of class scores, or probability >= 0.5 for one output."""
    import numpy as np

    scores = np.asarray(scores).reshape(len(scores), -1)
    labels = np.asarray(labels).reshape(len(labels), -1)
    if labels.shape[1] > 1:  # one-hot labels
        labels = labels.argmax(axis=1)[:, None]
    predicted = (scores[:, 0] >= 0.5) if scores.shape[1] == 1 else scores.argmax(axis=1)
    return float(np.mean(predicted.astype("int64") == labels[:, 0].astype("int64")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelzoo.parity", description=__doc__)
    parser.add_argument("format")
    parser.add_argument("file", type=Path)
    parser.add_argument("samples", type=Path)
    parser.add_argument("--evaluation", type=Path)
    arguments = parser.parse_args(argv)
    try:
        result = measure(arguments.format, arguments.file, arguments.samples, arguments.evaluation)
    except ModelzooError as error:
        print(error, file=sys.stderr)
        return 1
    except Exception as error:  # a runtime's own failure: one line for the parent to show
        first_line = (str(error).strip().splitlines() or [""])[0]
        print(f"{type(error).__name__}: {first_line}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
