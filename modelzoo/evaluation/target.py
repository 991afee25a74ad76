"""What `modelzoo evaluate` scores: an export folder, shipped weights (MODEL:TAG) or a run folder.

`resolve` reads what a target takes and was trained on without loading TensorFlow (a card, the
weights manifest, a run's recipe.json), so a mistake is answered at once; `Target.predict` loads
the model on first use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelzoo.errors import UsageError
from modelzoo.registry import TensorSpec

#: Examples per call into the model.
BATCH = 512


@dataclass
class Target:
    """A model to evaluate: what it is, its input and output, the data it was trained on."""

    label: str
    description: str
    input: TensorSpec
    output: TensorSpec
    data: str | None
    max_examples: int | None = None
    #: Scores recorded when it was trained, e.g. {"test": {"accuracy": ...}}.
    recorded: dict[str, Any] = field(default_factory=dict)
    load: Callable[[], Callable[[np.ndarray], np.ndarray]] | None = field(default=None, repr=False)
    _run: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def predict(self, inputs: np.ndarray) -> np.ndarray:
        """The model's output for a batch of examples (loaded on first use), in chunks."""
        if self._run is None:
            self._run = self.load()
        parts = [self._run(inputs[start : start + BATCH]) for start in range(0, len(inputs), BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, *self.output.example_shape))


def resolve(text: str) -> Target:
    """The target `text` names: a run folder, an export folder, or MODEL:TAG shipped weights."""
    path = Path(text)
    if path.is_dir() and (path / "recipe.json").is_file():
        return _run_folder(path)
    if path.is_dir():
        return _export(path)
    from modelzoo import predict

    shipped = predict.parse_weights_name(text)
    if shipped is None:
        raise UsageError(
            f"{text}: neither an export folder, a run folder nor MODEL:TAG shipped weights; give "
            "e.g. saved_models/mnist, runs/mnist_cnn/<stamp> or small_cnn:mnist"
        )
    return _shipped(*shipped)


def _spec(tensor: dict[str, Any], name: str | None = None) -> TensorSpec:
    """A TensorSpec from a card's or manifest's {"shape" (with or without the batch), "dtype"}."""
    return TensorSpec(name or tensor.get("name", ""), tuple(tensor["shape"]), tensor["dtype"])


def _export(path: Path) -> Target:
    from modelzoo import storage

    try:
        folder = storage.saved_model_folder(path)
    except storage.NoSavedModel:
        raise UsageError(
            f"{path} holds no SavedModel; give saved_models/NAME or saved_models/NAME/VERSION"
        ) from None
    card = storage.read_card(folder) or {}
    signature = card.get("signature")
    if signature:
        ((key_in, tensor_in),) = signature["inputs"].items()
        ((key_out, tensor_out),) = signature["outputs"].items()
        spec_in, spec_out = _spec(tensor_in, key_in), _spec(tensor_out, key_out)
    else:
        from modelzoo.predict import read_signature

        read = read_signature(str(folder))
        spec_in, (spec_out,) = read.input, list(read.outputs.values())

    def load():
        from modelzoo import serving

        servable = serving.load_local(folder)
        return lambda batch: servable.run({spec_in.name: batch})[spec_out.name]

    name = folder.parent.name if folder.name.isdigit() else folder.name
    return Target(
        label=f"{name}-{folder.name}" if folder.name.isdigit() else name,
        description=f"export {folder}",
        input=spec_in,
        output=spec_out,
        data=card.get("data", {}).get("name"),
        max_examples=card.get("recipe", {}).get("data", {}).get("max_examples"),
        recorded=card.get("metrics", {}),
        load=load,
    )


def _shipped(model_name: str, tag: str) -> Target:
    from modelzoo import weights

    entry = weights.STORE.get(model_name, tag)

    def load():
        from modelzoo.registry import create_model

        model = create_model(model_name, weights=tag)
        return lambda batch: np.asarray(model.predict(batch, verbose=0))

    return Target(
        label=f"{model_name}.{tag}",
        description=f"shipped weights {model_name}:{tag}",
        input=TensorSpec.of_example(
            entry.input["name"], tuple(entry.input["shape"]), entry.input["dtype"]
        ),
        output=TensorSpec.of_example(
            entry.output["name"], tuple(entry.output["shape"]), entry.output["dtype"]
        ),
        data=entry.data.get("name"),
        recorded=entry.metrics,
        load=load,
    )


def _run_folder(path: Path) -> Target:
    from modelzoo.run_folder import METRICS_FILE, RECIPE_FILE, WEIGHTS_FILE

    recipe = json.loads((path / RECIPE_FILE).read_text())
    metrics = (
        json.loads((path / METRICS_FILE).read_text()) if (path / METRICS_FILE).is_file() else {}
    )
    if not (path / WEIGHTS_FILE).is_file():
        raise UsageError(f"{path}: the run has no {WEIGHTS_FILE} (did it finish?)")
    arguments = {k: v for k, v in recipe["model"].items() if k not in ("name", "weights")}
    model_name = recipe["model"]["name"]
    cache: dict[str, Any] = {}

    def model():
        if "model" not in cache:
            from modelzoo.registry import create_model

            cache["model"] = create_model(model_name, **arguments)
            cache["model"].load_weights(str(path / WEIGHTS_FILE))
        return cache["model"]

    def load():
        return lambda batch: np.asarray(model().predict(batch, verbose=0))

    built = model()  # the run's input and output are its model's: built here, after the checks
    from modelzoo.saved_model import signature_keys

    key_in, key_out = signature_keys(built)
    return Target(
        label=f"{recipe['name']}-{path.name}",
        description=f"run {path}",
        input=TensorSpec(key_in, tuple(built.inputs[0].shape), str(built.inputs[0].dtype)),
        output=TensorSpec(key_out, tuple(built.outputs[0].shape), "float32"),
        data=recipe["data"]["name"],
        max_examples=recipe["data"].get("max_examples"),
        recorded={k: metrics[k] for k in ("train", "dev", "test") if k in metrics},
        load=load,
    )


def default_out(target: Target, data: str, split: str) -> Path:
    """Where a report goes unless --out says: evaluations/<target>/<data>-<split>."""
    return Path("evaluations") / target.label / f"{data}-{split}"
