"""Shipped weights: trained parameters for the zoo's models, with the metadata of the run that made them.

    model = modelzoo.create_model("small_cnn", weights="mnist")   # trained, no data or training needed
    modelzoo.model_card("small_cnn").weights                      # what ships, with its measured metrics

Each entry of `manifest.json` in this folder names a model and a tag (the data it was trained on,
or the recipe where one model has two recipes on the same data), the `.weights.h5` file with its
size and sha256, the architecture arguments the weights need, and the record of the recipe run that
produced them. Files and manifest are written by `python benchmarks/publish_weights.py`, never by
hand; the integration tests re-evaluate every entry against its recorded test metric.

Nothing here imports TensorFlow: a wrong tag, a damaged file or an override that would change the
architecture is refused before any model is built.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from modelzoo.errors import UsageError

MANIFEST_FILE = "manifest.json"
#: Factory arguments that shape only training, never the function the weights compute: dropout is
#: off at inference, l2 only adds to the loss, and seed and initializer only draw the initial weights.
TRAINING_ONLY_ARGUMENTS = ("dropout", "l2", "seed", "initializer")
#: The file suffix Keras requires of `model.load_weights` / `model.save_weights`.
WEIGHTS_SUFFIX = ".weights.h5"


class WeightsError(UsageError):
    """Weights that cannot be loaded as asked: an unknown tag, a damaged file, a different architecture."""

    def __init__(self, model: str, problem: str) -> None:
        super().__init__(f"{model}: {problem}", field="weights", problem=problem)


@dataclass(frozen=True)
class Weights:
    """One shipped set of trained weights and the record of how it was made."""

    model: str
    tag: str
    file: str
    bytes: int
    sha256: str
    #: The factory arguments the weights were trained with (the recipe's model section).
    model_args: dict[str, Any]
    #: What the model built with `model_args` has and takes: parameter count, and its input and
    #: output as {"name", "dtype", "shape" (one example, no batch dimension)}.
    parameters: int
    input: dict[str, Any]
    output: dict[str, Any]
    recipe: str
    command: str
    #: Data set name, split sizes, source and licence.
    data: dict[str, Any]
    #: The class names, in output order (empty for regression).
    classes: tuple[str, ...]
    #: Scores per evaluation, e.g. {"dev": {...}, "test": {"accuracy": ...}, "wild_digits_test": {...}}.
    metrics: dict[str, dict[str, float]]
    epochs: int
    #: Date, machine, package versions, training seconds, seed and (where recorded) the precision
    #: the run trained in.
    trained: dict[str, Any]
    #: The resolved recipe of the run, as `Recipe.to_dict()` gives it.
    recipe_settings: dict[str, Any] = field(repr=False, default_factory=dict)
    #: A `.npy` file of real dev inputs: what an export of these weights is verified and warmed up with.
    samples: str = ""

    @property
    def key(self) -> str:
        """'model:tag', the name `modelzoo predict` and `modelzoo export` take."""
        return f"{self.model}:{self.tag}"

    @property
    def headline(self) -> tuple[str, float] | None:
        """The main test metric (accuracy where there is one, else the loss) as (name, value)."""
        test = self.metrics.get("test", {})
        for name in ("accuracy", "loss"):
            if name in test:
                return name, test[name]
        return None

    @property
    def summary(self) -> str:
        """The headline as people read it: '99.41%' for accuracy, 'loss 0.0107' otherwise."""
        if self.headline is None:
            return "not measured"
        metric, value = self.headline
        return f"{value:.2%}" if metric == "accuracy" else f"{metric} {value:.4f}"

    @property
    def contract(self) -> str:
        """'image uint8[28,28,1] -> probabilities float32[10]': what the trained model takes and gives."""

        def spec(tensor: dict[str, Any]) -> str:
            return (
                f"{tensor['name']} {tensor['dtype']}[{','.join(str(d) for d in tensor['shape'])}]"
            )

        return f"{spec(self.input)} -> {spec(self.output)}"

    def to_dict(self) -> dict[str, Any]:
        """The entry as JSON data, as the manifest holds it."""
        return json.loads(json.dumps({**self.__dict__, "classes": list(self.classes)}))


class Store:
    """A folder of weights files and their manifest (the package's own unless told otherwise)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else Path(str(resources.files(__name__)))
        self._entries: list[Weights] | None = None

    def entries(self) -> list[Weights]:
        """Every entry of the manifest, sorted by model and tag (none when there is no manifest)."""
        if self._entries is None:
            path = self.folder / MANIFEST_FILE
            document = json.loads(path.read_text()) if path.is_file() else {"weights": []}
            self._entries = sorted(
                (
                    Weights(**{**entry, "classes": tuple(entry["classes"])})
                    for entry in document["weights"]
                ),
                key=lambda w: (w.model, w.tag),
            )
        return list(self._entries)

    def for_model(self, model: str) -> tuple[Weights, ...]:
        """The entries of one model."""
        return tuple(w for w in self.entries() if w.model == model)

    def get(self, model: str, tag: str) -> Weights:
        """The entry for (model, tag), or a WeightsError naming close matches and the tags that exist."""
        from modelzoo.words import did_you_mean

        tags = [w.tag for w in self.for_model(model)]
        if tag in tags:
            return next(w for w in self.for_model(model) if w.tag == tag)
        if tags:
            raise WeightsError(
                model,
                f"weights {tag!r} do not ship{did_you_mean(tag, tags)}; its weights: {', '.join(tags)}",
            )
        shipped = sorted({w.model for w in self.entries()})
        raise WeightsError(
            model,
            f"weights {tag!r} do not ship; none ship for {model} (models with weights: "
            f"{', '.join(shipped) or 'none'})",
        )

    def path(self, entry: Weights) -> Path:
        """The entry's file, after checking its size and sha256 against the manifest."""
        path = self.folder / entry.file
        if not path.is_file():
            raise WeightsError(
                entry.model,
                f"weights {entry.tag!r}: the file {path} is missing; reinstall modelzoo or restore it",
            )
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != entry.sha256:
            raise WeightsError(
                entry.model,
                f"weights {entry.tag!r}: the file {path} has sha256 "
                f"{digest[:16]}..., the manifest records "
                f"{entry.sha256[:16]}...; the file is damaged or was replaced: reinstall modelzoo or restore it",
            )
        return path

    def samples(self, entry: Weights):
        """The entry's recorded dev inputs (a NumPy batch)."""
        import numpy as np

        path = self.folder / entry.samples
        if not path.is_file():
            raise WeightsError(
                entry.model,
                f"weights {entry.tag!r}: the samples file {path} is missing; "
                "reinstall modelzoo or restore it",
            )
        return np.load(path)

    def write(self, entries: list[Weights]) -> Path:
        """Write the manifest for `entries` (sorted), replacing the previous one atomically."""
        path = self.folder / MANIFEST_FILE
        document = {
            "written_by": "python benchmarks/publish_weights.py [NAME ...]",
            "weights": [w.to_dict() for w in sorted(entries, key=lambda w: (w.model, w.tag))],
        }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        temporary.replace(path)
        self._entries = None
        return path


#: The package's store; tests may point it elsewhere.
STORE = Store()


def file_name(model: str, tag: str) -> str:
    """The file name of a (model, tag) entry."""
    return f"{model}.{tag}{WEIGHTS_SUFFIX}"


def is_path(weights: str) -> bool:
    """Whether `weights` names a file (a path or a .h5 name) rather than a shipped tag."""
    return "/" in weights or "\\" in weights or weights.endswith(".h5")


def _canonical(value: Any) -> Any:
    """A value as JSON holds it (tuples as lists), so recipe and manifest values compare equal."""
    return json.loads(json.dumps(value))


def resolve(
    model: str, weights: str, overrides: dict[str, Any], defaults: dict[str, Any]
) -> tuple[Path, dict[str, Any]]:
    """The checked weights file and the factory arguments to build the model with.

    `weights` is a shipped tag or a path to a user's `.weights.h5` file. For a tag the entry's
    architecture arguments are the base; an override may change only `TRAINING_ONLY_ARGUMENTS`
    or repeat the entry's value. `defaults` are the factory's defaults, for arguments the entry
    leaves at their default.
    """
    if not isinstance(weights, str) or not weights:
        raise WeightsError(
            model,
            f"weights must be a shipped tag (e.g. 'mnist') or a {WEIGHTS_SUFFIX} file, got {weights!r}",
        )
    if is_path(weights):
        path = Path(weights).expanduser()
        if not path.name.endswith(WEIGHTS_SUFFIX):
            raise WeightsError(
                model,
                f"weights file {path} must end in {WEIGHTS_SUFFIX} (what model.save_weights writes)",
            )
        if not path.is_file():
            raise WeightsError(model, f"weights file {path} does not exist")
        return path, dict(overrides)
    entry = STORE.get(model, weights)
    for argument, value in overrides.items():
        if argument in TRAINING_ONLY_ARGUMENTS:
            continue
        trained = entry.model_args.get(argument, defaults.get(argument))
        if _canonical(value) != _canonical(trained):
            raise WeightsError(
                model,
                f"weights {weights!r} were trained with {argument}={_canonical(trained)!r}; "
                f"{argument}={_canonical(value)!r} changes the architecture: leave it out, or do not start "
                f"from these weights",
            )
    return STORE.path(entry), {**entry.model_args, **overrides}


def load_into(model, path: Path, name: str) -> None:
    """Load a `.weights.h5` file into a built Keras model, or a WeightsError if it does not fit."""
    try:
        model.load_weights(str(path))
    except ValueError as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = next((line for line in lines if "shape" in line), lines[0] if lines else "")
        detail = detail.split(" Target variable:")[0]
        raise WeightsError(
            name,
            f"weights file {path} does not fit the model as built ({detail}); build it with the "
            f"arguments the file was saved with",
        ) from None
