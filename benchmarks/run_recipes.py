"""Run built-in recipes at their defaults, check their targets, record the results.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/run_recipes.py [NAME ...]

Each recipe runs in a fresh process exactly as a user types it
(`python -m modelzoo.recipes NAME --fresh ...`), into a temporary run and export folder.
The figures go to recipes/results.json (installed with the package: `python -m
modelzoo.recipes list` shows them), from which `benchmarks/update_readme.py` renders the
README's recipe table. Recipes not named keep their previous record.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "recipes" / "results.json"
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from modelzoo import recipe as recipes  # noqa: E402


def accuracy_at_least(minimum: float):
    def check(metrics: dict) -> tuple[bool, str]:
        value = metrics["test"]["accuracy"]
        return value >= minimum, f"accuracy {value:.2%}"

    check.target = f">= {minimum:.1%} accuracy"
    return check


def line_close_to(slope: float, intercept: float, tolerance: float):
    def check(metrics: dict) -> tuple[bool, str]:
        weights = metrics["weights"]
        w = next(v for k, v in weights.items() if k.endswith("kernel"))[0][0]
        b = next(v for k, v in weights.items() if k.endswith("bias"))[0]
        ok = abs(w - slope) <= tolerance and abs(b - intercept) <= tolerance
        return ok, f"w = {w:.3f}, b = {b:.3f}, test MSE {metrics['test']['loss']:.4f}"

    check.target = f"w within {tolerance} of {slope}, b within {tolerance} of {intercept}"
    return check


#: The targets of the recipes issue, on the held-out test split.
TARGETS = {
    "mnist": accuracy_at_least(0.980),
    "mnist_cnn": accuracy_at_least(0.992),
    "mnist_mlp": accuracy_at_least(0.983),
    "mnist_hinge": accuracy_at_least(0.91),
    "diabetes": accuracy_at_least(0.75),
    "logistic": accuracy_at_least(0.95),
    "xor": accuracy_at_least(1.0),
    "linear": line_close_to(2.0, 0.5, 0.05),
}
#: Extra limits on training time, in seconds of model.fit.
TIME_LIMITS = {"mnist": 60.0}


def serving_example(model_dir: Path) -> dict:
    """The export's serving signature and one recorded dev example with the Keras answer for it.

    The README's REST examples are rendered from this, so their payloads match a real export.
    """
    import numpy as np

    from modelzoo import serving, verify

    servable = serving.load_local(model_dir)
    try:
        signature = servable.signature(None)
    finally:
        servable.close()
    samples = np.load(verify.version_dir(model_dir) / "assets.extra" / verify.SAMPLES_FILE)

    def shortest(array):  # float32 values as they print (28.2, not 28.200000762939453)
        if array.ndim != 1 or array.dtype.kind != "f":
            return array.tolist()
        return [float(str(value)) for value in array]

    example = {
        "model": model_dir.name,
        "inputs": {key: str(spec) for key, spec in signature.inputs.items()},
        "outputs": {key: str(spec) for key, spec in signature.outputs.items()},
        "example_prediction": {key: shortest(samples[f"output:{key}"][0]) for key in signature.outputs},
    }
    if samples["inputs"][0].size <= 64:  # feature rows; an image would bloat the record
        example["example_instance"] = shortest(samples["inputs"][0])
    return example


def run_recipe(name: str, workdir: Path) -> dict:
    command = [sys.executable, "-m", "modelzoo.recipes", name, "--fresh",
               "--run-dir", str(workdir / "runs" / name), "--export-dir", str(workdir / "saved_models")]
    shown = f"python -m modelzoo.recipes {name}"
    print(f"$ {shown}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit(f"{name} failed with exit code {result.returncode}")
    metrics = json.loads((workdir / "runs" / name / "metrics.json").read_text())
    met, summary = TARGETS[name](metrics)
    seconds = metrics["train_seconds_this_process"]
    if name in TIME_LIMITS:
        met = met and seconds < TIME_LIMITS[name]
    record = {
        "summary": summary,
        "target": TARGETS[name].target + (f", training < {TIME_LIMITS[name]:.0f} s" if name in TIME_LIMITS else ""),
        "met": met,
        "test": metrics["test"],
        "dev": metrics["dev"],
        "epochs_run": metrics["epochs_run"],
        **({"refit": metrics["refit"]} if "refit" in metrics else {}),
        "train_seconds": seconds,
        "process_seconds": round(wall, 1),
        "command": shown,
        "serving": serving_example(Path(metrics["export"]).parent),
    }
    print(f"  {summary}; {metrics['epochs_run']} epochs, {seconds:.1f} s training; target met: {met}", flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recipes to run (default: all built-in)")
    args = parser.parse_args()
    names = args.names or recipes.builtin_names()
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"recipes": {}}
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            record = run_recipe(name, Path(workdir))
            record["date"] = time.strftime("%Y-%m-%d")
            record["machine"] = describe()
            previous["recipes"][name] = record
            previous["measured_by"] = "python benchmarks/run_recipes.py [NAME ...]"
            RESULTS.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
