"""Run built-in recipes at their defaults, ship their trained weights, record their results.

    MODELZOO_DATA_MIRROR=../shared/data python benchmarks/publish_weights.py [NAME ...]

Each recipe runs in a fresh process exactly as a user types it
(`python -m modelzoo.recipes NAME --fresh ...`), into a temporary run and export folder. From
each run this writes:

- `modelzoo/weights/<model>.<tag>.weights.h5` (the tested, exported model's weights), a `.npy` of
  its recorded dev inputs, and the run's record in `modelzoo/weights/manifest.json`;
- the recipe's row in `recipes/results.json` (its target, training time and serving example),
  from which `benchmarks/update_readme.py` renders the README's tables.

Models that take MNIST images are also scored on the held-out digits users bring
(`modelzoo.datasets.wild_digits`, never used for training). Recipes not named keep their
previous record and weights.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "recipes" / "results.json"
sys.path.insert(0, str(ROOT))

from benchmarks.machine import describe  # noqa: E402
from modelzoo import recipe_file as recipes  # noqa: E402
from modelzoo import saved_model  # noqa: E402
from modelzoo import weights as shipped  # noqa: E402
from modelzoo.words import plural  # noqa: E402


def recipe_target(name: str):
    """The check of a recipe's `[publish]` target (the one source of truth, `modelzoo.gate`) and its
    `[targets]` line and training time (`modelzoo.targets`) on a run's metrics.json: (met, summary)."""
    recipe = recipes.load(name)
    settings = recipe.publish
    extra = line_close_to(*recipe.targets.line) if recipe.targets.line else None
    seconds = recipe.targets.train_seconds

    def check(metrics: dict) -> tuple[bool, str]:
        value = metrics["test"][settings.metric]
        met, summary = (
            settings.meets_target(value),
            f"{settings.metric} {recipes.format_metric(settings.metric, value)}",
        )
        if extra is not None:
            extra_met, summary = extra(metrics)
            met = met and extra_met
        if seconds is not None:
            met = met and metrics["train_seconds_this_process"] < seconds
        return met, summary

    if settings.minimum is not None:
        target = (
            f">= {settings.minimum:.1%} {settings.metric}"
            if settings.metric == "accuracy"
            else f"{settings.metric} >= {settings.minimum:g}"
        )
    else:
        target = (
            f"test {settings.metric} <= {settings.maximum:g}"
            if settings.maximum is not None
            else "none"
        )
    check.target = (
        target
        + (f"; {extra.target}" if extra is not None else "")
        + (f", training < {seconds:.0f} s" if seconds is not None else "")
    )
    check.minimum = settings.minimum
    check.settings = settings
    return check


def fitted_line(metrics: dict) -> tuple[float, float] | None:
    """(w, b) of a model that is one unit on one feature (linear or logistic regression), else None."""
    weights = metrics.get("weights", {})
    kernels = [v for k, v in weights.items() if k.endswith("kernel")]
    biases = [v for k, v in weights.items() if k.endswith("bias")]
    if len(kernels) == len(biases) == 1 and len(kernels[0]) == 1 and len(kernels[0][0]) == 1:
        return kernels[0][0][0], biases[0][0]
    return None


def details(metrics: dict, summary: str) -> str:
    """What a summary adds for a worked example: the fitted w and b, and the answers at its query points."""
    parts = []
    line = fitted_line(metrics)
    if line is not None and "w = " not in summary:
        parts.append(f"w = {line[0]:.3f}, b = {line[1]:.3f}")
    for prediction in metrics.get("predictions", []):
        key, values = next((k, v) for k, v in prediction.items() if k != "input")
        shown = ", ".join(f"{v:.3f}" for v in values)
        point = ", ".join(f"{x:g}" for x in prediction["input"])
        parts.append(
            f"{key} {shown} at x = {point if len(prediction['input']) == 1 else f'({point})'}"
        )
    return "; ".join([summary, *parts])


def line_close_to(slope: float, intercept: float, tolerance: float):
    def check(metrics: dict) -> tuple[bool, str]:
        w, b = fitted_line(metrics)
        ok = abs(w - slope) <= tolerance and abs(b - intercept) <= tolerance
        return ok, f"w = {w:.3f}, b = {b:.3f}, test MSE {metrics['test']['loss']:.4f}"

    check.target = f"w within {tolerance} of {slope}, b within {tolerance} of {intercept}"
    return check


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
        "inputs": {key: spec.example() for key, spec in signature.inputs.items()},
        "outputs": {key: spec.example() for key, spec in signature.outputs.items()},
        "example_prediction": {
            key: shortest(samples[f"output:{key}"][0]) for key in signature.outputs
        },
    }
    if samples["inputs"][0].size <= 64:  # feature rows; an image would bloat the record
        example["example_instance"] = shortest(samples["inputs"][0])
    return example


def run_recipe(name: str, workdir: Path) -> tuple[dict, Path]:
    """Run one recipe as a user would; its results.json record and its run folder."""
    run_dir = workdir / "runs" / name
    # --publish-anyway: the export goes to a fresh temporary folder only to be measured; whether the
    # run met its target is recorded below ("met"), not by keeping a miss out of a served folder.
    command = [
        sys.executable,
        "-m",
        "modelzoo.recipes",
        name,
        "--fresh",
        "--publish-anyway",
        "--run-dir",
        str(run_dir),
        "--export-dir",
        str(workdir / "saved_models"),
    ]
    shown = f"python -m modelzoo.recipes {name}"
    print(f"$ {shown}", flush=True)
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit(f"{name} failed with exit code {result.returncode}")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    target = recipe_target(name)
    met, summary = target(metrics)
    summary = details(metrics, summary)
    seconds = metrics["train_seconds_this_process"]
    record = {
        "summary": summary,
        "target": target.target,
        "met": met,
        "test": metrics["test"],
        "dev": metrics["dev"],
        "epochs_run": metrics["epochs_run"],
        **({"refit": metrics["refit"]} if "refit" in metrics else {}),
        "train_seconds": seconds,
        "process_seconds": round(wall, 1),
        "command": shown,
        **{key: metrics[key] for key in ("predictions", "weights") if key in metrics},
        "serving": serving_example(Path(metrics["export"]).parent),
        "date": time.strftime("%Y-%m-%d"),
        "machine": describe(),
    }
    print(
        f"  {summary}; {plural(metrics['epochs_run'], 'epoch')}, {seconds:.1f} s training; target met: {met}",
        flush=True,
    )
    return record, run_dir


def ship_weights(name: str, record: dict, run_dir: Path) -> shipped.Weights:
    """The manifest entry of a finished run, its weights and dev samples moved into the package.

    Everything is measured on the run's own files first; the package's files are replaced (each by
    a rename) only then, and the caller writes the manifest right after.
    """
    import numpy as np

    from modelzoo import data, evaluate, verify
    from modelzoo.registry import create_model

    recipe = recipes.load(name)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    weights_path = run_dir / metrics["weights_file"]
    model = create_model(recipe.model, weights=str(weights_path), **recipe.architecture)
    scores = {"dev": metrics["dev"], "test": metrics["test"]}
    spec = data.dataset_spec(recipe.data)
    if spec.input == data.DATASETS["mnist"].input:
        for split in ("dev", "test"):
            scores[f"wild_digits_{split}"] = evaluate.wild_digits(model, split)
        goal = recipe.targets.wild_digits_accuracy
        accuracy = scores["wild_digits_test"]["accuracy"]
        print(
            f"  held-out digits: test accuracy {accuracy:.2%}"
            + (f" (goal {goal:.0%}: {'met' if accuracy >= goal else 'NOT met'})" if goal else "")
        )

    folder = shipped.STORE.folder
    file = shipped.file_name(recipe.model, recipe.tag)
    samples_file = file.replace(shipped.WEIGHTS_SUFFIX, ".samples.npy")
    samples = np.load(verify.version_dir(metrics["export"]) / "assets.extra" / verify.SAMPLES_FILE)[
        "inputs"
    ]
    np.save(folder / f".{samples_file}.partial.npy", samples)
    shutil.copyfile(weights_path, folder / f".{file}.partial")
    os.replace(folder / f".{samples_file}.partial.npy", folder / samples_file)
    os.replace(folder / f".{file}.partial", folder / file)
    content = (folder / file).read_bytes()

    def tensor(keras_tensor, name: str) -> dict:
        return {
            "name": name,
            "dtype": str(keras_tensor.dtype),
            "shape": list(keras_tensor.shape[1:]),
        }

    input_key, output_key = saved_model.signature_keys(model)
    return shipped.Weights(
        model=recipe.model,
        tag=recipe.tag,
        file=file,
        bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        model_args=json.loads(json.dumps(recipe.architecture)),
        parameters=model.count_params(),
        input=tensor(model.inputs[0], input_key),
        output=tensor(model.outputs[0], output_key),
        recipe=name,
        command=record["command"],
        data={
            "name": spec.name,
            "sizes": metrics["sizes"],
            "source": spec.origin,
            "licence": spec.licence,
        },
        classes=spec.class_names,
        metrics=scores,
        epochs=metrics["refit"]["epochs"] if "refit" in metrics else metrics["epochs_run"],
        trained={
            "date": record["date"],
            "machine": record["machine"],
            "versions": metrics["versions"],
            "train_seconds": metrics["train_seconds_this_process"],
            "seed": metrics["seed"],
            # What train.precision ("auto" included) resolved to on the machine that trained.
            **({"precision": metrics["precision"]} if "precision" in metrics else {}),
            # oneDNN or Eigen: a rerun reproduces the weights byte for byte only with the same.
            **({"cpu_kernels": metrics["cpu_kernels"]} if "cpu_kernels" in metrics else {}),
            **({"refit_on_train_and_dev": metrics["refit"]} if "refit" in metrics else {}),
        },
        recipe_settings={k: v for k, v in recipe.to_dict().items() if k != "source"},
        samples=samples_file,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="recipes to run (default: all built-in)")
    args = parser.parse_args()
    names = args.names or recipes.builtin_names()
    trained_by: dict[tuple[str, str], str] = {}
    for (
        name
    ) in recipes.builtin_names():  # one recipe per (model, tag), checked before anything runs
        resolved = recipes.load(name)
        other = trained_by.setdefault((resolved.model, resolved.tag), name)
        if other != name:
            raise SystemExit(
                f"{other} and {name} both train {resolved.model}:{resolved.tag}: give one an [export] weights_tag"
            )
    for name in names:
        recipes.load(name)  # unknown names fail before anything runs
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"recipes": {}}
    builtin = set(recipes.builtin_names())
    entries = {(w.model, w.tag): w for w in shipped.STORE.entries() if w.recipe in builtin}
    with tempfile.TemporaryDirectory() as workdir:
        for name in names:
            record, run_dir = run_recipe(name, Path(workdir))
            entry = ship_weights(name, record, run_dir)
            entries[(entry.model, entry.tag)] = entry
            previous["recipes"][name] = record
            previous["measured_by"] = "python benchmarks/publish_weights.py [NAME ...]"
            RESULTS.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
            shipped.STORE.write(list(entries.values()))
    kept = {w.file for w in entries.values()} | {w.samples for w in entries.values()}
    for path in shipped.STORE.folder.iterdir():
        if path.name.endswith((shipped.WEIGHTS_SUFFIX, ".samples.npy")) and path.name not in kept:
            path.unlink()
    print(f"wrote {RESULTS} and {shipped.STORE.folder / shipped.MANIFEST_FILE}")


if __name__ == "__main__":
    main()
