"""Recipes: a TOML file that says everything about a training run, parsed and checked up front.

    description = "..."
    [model]            # a zoo model and keyword overrides of its factory
    name = "softmax_mnist_classifier"
    hidden_units = 256
    [data]             # a data set of modelzoo.data, optionally cut to N examples per split
    name = "mnist"
    [train]            # loss, optimizer, learning rate (and schedule), metrics, batches, epochs,
                       # early stopping on dev, and optionally a final refit on train + dev
    loss = "sparse_categorical_crossentropy"
    ...
    [augment]          # optional, image data only: random changes to each training image
    rotation = 10      # (modelzoo.augment.Augmentation), drawn afresh every epoch
    [export]           # the folder name under the export dir, and the tag of the weights it
    name = "mnist"     # ships as (default: the data set's name)
    [publish]          # the gate before a new version is served (modelzoo.gate): the test
    minimum = 0.98     # metric's target and how much worse than the served version is allowed
    [predict]          # optional, feature rows only: inputs whose predictions the run prints
    inputs = [[4.0]]   # and records in metrics.json (a worked example's query points)
    [targets]          # optional: what benchmarks/publish_weights.py checks a full run against
    train_seconds = 60 # beyond [publish] (modelzoo.targets)

A recipe name is a built-in recipe (recipes/*.toml) or, after those, a `NAME.toml` in a folder of
$MODELZOO_RECIPES_PATH (folders separated by os.pathsep).

Parsing and every check run before TensorFlow is imported: a mistake is one line naming the
file, the line and the field.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from modelzoo import checks, gate
from modelzoo import data as data_module
from modelzoo.augment import Augmentation
from modelzoo.errors import UsageError
from modelzoo.export import MODEL_FOLDER_RULE, is_model_folder_name
from modelzoo.losses import LOSSES, ONE_HOT_LOSSES, loss_problem
from modelzoo.registry import check_arguments, did_you_mean, factory_parameters, list_models
from modelzoo.targets import FIELDS as TARGET_FIELDS
from modelzoo.targets import Targets, targets_from
from modelzoo.words import plural

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine")
METRICS = ("accuracy", "mean_absolute_error", "mean_squared_error", "auc")
#: The largest count (epochs, batch size, patience, examples): TensorFlow keeps these in int32.
MAX_COUNT = checks.MAX_INT
#: Seeds are what `keras.utils.set_random_seed` (numpy) takes: 0 <= seed < 2**32.
SEED_LIMIT = checks.SEED_LIMIT


class RecipeError(UsageError):
    """A recipe that cannot run as written (exit code 2)."""


@dataclass(frozen=True)
class TrainSettings:
    """How to fit: loss, optimizer and learning rate, metrics, batches, epochs, early stopping."""

    loss: str
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    metrics: tuple[str, ...] = ("accuracy",)
    batch_size: int = 32
    epochs: int = 10
    early_stopping_patience: int = 0
    seed: int = 0
    #: After the dev split has chosen the epoch count (early stopping's best epoch), train a fresh
    #: model on train + dev for that many epochs; that model is tested and exported.
    refit: bool = False


@dataclass(frozen=True)
class Recipe:
    """A resolved recipe: what `python -m modelzoo.recipes NAME` runs."""

    name: str
    description: str
    model: str
    model_args: dict[str, Any]
    data: str
    train: TrainSettings
    export_name: str
    max_examples: int | None = None
    source: str = field(default="", compare=False)
    #: The tag its trained weights ship under (`create_model(model, weights=tag)`); default the data set.
    weights_tag: str | None = None
    #: Random changes to the training images (the [augment] section), or None.
    augment: Augmentation | None = None
    #: What a run's test score must be for its export to be published (the [publish] section). Not
    #: part of `to_dict()`: it changes no training, so a run resumes and a sweep keeps its folder
    #: when only the gate changes; the card records it with the decision.
    publish: gate.PublishSettings = field(default_factory=lambda: gate.PublishSettings("loss"))
    #: Feature rows whose predictions a run prints and records (the [predict] section); like
    #: `publish`, not part of `to_dict()`, since they change no training.
    predict_inputs: tuple[tuple[float, ...], ...] = ()
    #: What a full run is checked against beyond the gate (the [targets] section); like
    #: `publish`, not part of `to_dict()`.
    targets: Targets = field(default_factory=Targets)

    @property
    def architecture(self) -> dict[str, Any]:
        """The model's factory arguments without the weights it starts from."""
        return {k: v for k, v in self.model_args.items() if k != "weights"}

    @property
    def tag(self) -> str:
        """The tag of the weights this recipe trains: `export.weights_tag`, else the data set's name."""
        return self.weights_tag or self.data

    @property
    def one_hot(self) -> bool:
        """Whether the loss wants one-hot targets."""
        return self.train.loss in ONE_HOT_LOSSES

    def to_dict(self) -> dict[str, Any]:
        """The recipe as JSON data (lists, not tuples: equal to itself read back), in the sections of its file."""
        return json.loads(
            json.dumps(
                {
                    "name": self.name,
                    "description": self.description,
                    "model": {"name": self.model, **self.model_args},
                    "data": {
                        "name": self.data,
                        **({"max_examples": self.max_examples} if self.max_examples else {}),
                    },
                    "train": dataclasses.asdict(self.train),
                    **({"augment": self.augment.to_dict()} if self.augment else {}),
                    "export": {
                        "name": self.export_name,
                        **({"weights_tag": self.weights_tag} if self.weights_tag else {}),
                    },
                    "source": self.source,
                }
            )
        )


def builtin_names() -> list[str]:
    """Names of the recipes shipped in the modelzoo.recipes package, sorted."""
    folder = resources.files("modelzoo.recipes")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


#: Folders (separated by os.pathsep) searched for NAME.toml after the built-in recipes.
RECIPES_PATH_ENV = "MODELZOO_RECIPES_PATH"


def recipe_path() -> tuple[str, ...]:
    """The folders of $MODELZOO_RECIPES_PATH, in order (empty entries skipped)."""
    return tuple(d for d in os.environ.get(RECIPES_PATH_ENV, "").split(os.pathsep) if d)


def recipe_names() -> list[str]:
    """Every recipe a name finds: the built-in ones, then those on the recipe path they do not
    shadow (built-ins first, each group sorted)."""
    names = builtin_names()
    extra = {
        p.stem
        for folder in recipe_path()
        if Path(folder).is_dir()
        for p in Path(folder).glob("*.toml")
    }
    return names + sorted(extra - set(names))


def model_of(name_or_path: str) -> str | None:
    """The model a recipe file's [model] names (read, not checked), or None if it names none."""
    try:
        document = tomllib.loads(read_text(find(name_or_path)))
    except (RecipeError, tomllib.TOMLDecodeError):
        return None
    model = document.get("model", {})
    return model.get("name") if isinstance(model, dict) else None


def find(name_or_path: str) -> Path:
    """The file of a recipe name (built-in, then the recipe path), or a user's .toml path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            raise RecipeError(f"recipe file {path} is a folder; give the path of a .toml file")
        if not path.exists():
            raise RecipeError(f"recipe file {path} does not exist")
        return path
    if name_or_path not in builtin_names():
        for folder in recipe_path():
            if (Path(folder) / f"{name_or_path}.toml").is_file():
                return Path(folder) / f"{name_or_path}.toml"
        raise RecipeError(
            f"unknown recipe {name_or_path!r}{did_you_mean(name_or_path, builtin_names())}; "
            f"built-in recipes: {', '.join(builtin_names())} (or give a path to a .toml file)"
        )
    return Path(str(resources.files("modelzoo.recipes").joinpath(f"{name_or_path}.toml")))


def load(name_or_path: str, overrides: dict[str, Any] | None = None) -> Recipe:
    """Read, override ("section.field": value) and check a recipe; no TensorFlow involved."""
    path = find(name_or_path)
    text = read_text(path)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RecipeError(f"{path}: not valid TOML: {error}") from None
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.rpartition(".")
        if not section:
            raise RecipeError(
                f"--set {dotted}: name a field as section.field, e.g. train.epochs or model.hidden_units"
            )
        if section not in SECTIONS:
            raise RecipeError(
                f"--set {dotted}: unknown section {section!r}; sections: {', '.join(SECTIONS)}"
            )
        document.setdefault(section, {})[key] = value
    return _resolve(document, path, text, name=path.stem, overridden=set(overrides or {}))


def read_text(path: Path) -> str:
    """A recipe file's text, or a RecipeError saying why it cannot be read (unreadable, not UTF-8)."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RecipeError(f"recipe file {path} cannot be read: {error.strerror or error}") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise RecipeError(
            f"{path}:{line}: not UTF-8 text (byte {content[error.start]:#04x} at offset {error.start}); "
            "save the recipe as UTF-8"
        ) from None


SECTIONS = {
    "model": None,  # any keyword of the model's factory
    "data": ("name", "max_examples"),
    "train": tuple(f.name for f in dataclasses.fields(TrainSettings)),
    "augment": tuple(f.name for f in dataclasses.fields(Augmentation)),
    "export": ("name", "weights_tag"),
    "publish": gate.FIELDS,
    "predict": ("inputs",),
    "targets": TARGET_FIELDS,
}


def _where(path: Path, text: str, section: str | None, key: str) -> str:
    """'file:line' of `key` (inside [section]), or just the file if the line is not found."""
    current = None
    for number, line in enumerate(text.splitlines(), start=1):
        header = re.match(r"\s*\[([^\]]+)\]", line)
        if header:
            current = header.group(1).strip()
        elif current == section and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return f"{path}:{number}"
    return str(path)


def _resolve(
    document: dict[str, Any], path: Path, text: str, name: str, overridden: set[str]
) -> Recipe:
    def fail(section: str | None, key: str, message: str) -> RecipeError:
        label = f"{section}.{key}" if section else key
        where = f"{path.name}, --set" if label in overridden else _where(path, text, section, key)
        return RecipeError(f"{where}: {label}: {message}")

    for key, value in document.items():
        if key == "description":
            continue
        if key not in SECTIONS:
            raise fail(
                None,
                key,
                f"unknown field{did_you_mean(key, SECTIONS)}; a recipe has description and the "
                f"sections [{'], ['.join(SECTIONS)}]",
            )
        if not isinstance(value, dict):
            raise fail(None, key, "must be a section: [" + key + "]")
        allowed = SECTIONS[key]
        for field_name in value:
            if allowed is not None and field_name != "name" and field_name not in allowed:
                raise fail(
                    key,
                    field_name,
                    f"unknown field{did_you_mean(field_name, allowed)}; [{key}] takes {', '.join(allowed)}",
                )
    for section in ("model", "data", "export"):
        if "name" not in document.get(section, {}):
            raise fail(section, "name", f"missing: [{section}] needs a name")

    for section in ("model", "data", "export"):
        if not isinstance(document[section]["name"], str):
            raise fail(section, "name", f"must be a string, got {document[section]['name']!r}")

    model_args = dict(document["model"])
    model = model_args.pop("name")
    if model not in list_models():
        raise fail(
            "model", "name", f"unknown model {model!r}{did_you_mean(str(model), list_models())}"
        )
    model_args = {k: tuple(v) if isinstance(v, list) else v for k, v in model_args.items()}
    accepted = [*factory_parameters(model), "weights"]
    for key in model_args:
        if key not in accepted:
            raise fail(
                "model",
                key,
                f"{model} takes no {key!r}{did_you_mean(key, accepted)}; it takes {', '.join(accepted)}",
            )
    try:
        check_arguments(model, **model_args)
    except UsageError as error:
        # "model: argument must be ..." -> the field is the word after the model's name
        argument = re.match(r"[^:]+: (\w+)", str(error))
        raise fail(
            "model", argument.group(1) if argument else "name", str(error).split(": ", 1)[-1]
        ) from None

    data_section = document["data"]
    if data_section["name"] not in data_module.DATASETS:
        raise fail(
            "data",
            "name",
            f"unknown data set {data_section['name']!r}{did_you_mean(str(data_section['name']), data_module.DATASETS)}",
        )
    max_examples = data_section.get("max_examples")
    if max_examples is not None and (not _is_int(max_examples) or max_examples < 1):
        raise fail("data", "max_examples", f"must be a positive integer, got {max_examples!r}")
    if max_examples is not None and max_examples > MAX_COUNT:
        raise fail("data", "max_examples", f"must be at most {MAX_COUNT}, got {max_examples!r}")

    train_section = dict(document.get("train", {}))
    if "loss" not in train_section:
        raise fail("train", "loss", f"missing: choose one of {', '.join(LOSSES)}")
    if "metrics" in train_section and isinstance(train_section["metrics"], list):
        train_section["metrics"] = tuple(train_section["metrics"])
    train = TrainSettings(**train_section)
    for key, problem in _train_problems(train):
        raise fail("train", key, problem)
    mismatch = loss_problem(train.loss, model, model_args, data_section["name"])
    if mismatch:
        section, _, key = mismatch[0].partition(".")
        raise fail(section, key, mismatch[1])

    augment = None
    if "augment" in document:
        if "name" in document["augment"]:
            raise fail(
                "augment",
                "name",
                f"unknown field; [augment] takes {', '.join(SECTIONS['augment'])}",
            )
        for key, value in document["augment"].items():
            try:
                Augmentation(**{key: value})
            except UsageError as error:
                raise fail("augment", key, str(error)) from None
        augment = Augmentation(**document["augment"])
        if len(data_module.DATASETS[data_section["name"]].input.shape) != 4:
            raise fail(
                "augment",
                next(iter(document["augment"]), "rotation"),
                f"augmentation changes images; {data_section['name']} has feature rows: remove [augment]",
            )

    export_name = document["export"]["name"]
    if not is_model_folder_name(export_name):
        raise fail("export", "name", f"{MODEL_FOLDER_RULE}, got {export_name!r}")
    weights_tag = document["export"].get("weights_tag")
    if weights_tag is not None and (
        not isinstance(weights_tag, str) or not re.fullmatch(r"[A-Za-z0-9_]+", weights_tag)
    ):
        raise fail(
            "export",
            "weights_tag",
            f"must be a tag of letters, digits and '_', got {weights_tag!r}",
        )

    publish_section = document.get("publish", {})
    if "name" in publish_section:
        raise fail("publish", "name", f"unknown field; [publish] takes {', '.join(gate.FIELDS)}")
    publish, problems = gate.settings_from(
        publish_section, train.metrics if isinstance(train.metrics, tuple) else ()
    )
    for key, problem in problems:
        raise fail("publish", key, problem)

    predict_section = document.get("predict", {})
    if "name" in predict_section:
        raise fail(
            "predict", "name", f"unknown field; [predict] takes {', '.join(SECTIONS['predict'])}"
        )
    predict_inputs = ()
    if "inputs" in predict_section:
        predict_inputs, problem = _predict_inputs(
            predict_section["inputs"], data_module.DATASETS[data_section["name"]]
        )
        if problem:
            raise fail("predict", "inputs", problem)

    extra_targets, problems = targets_from(document.get("targets", {}))
    for key, problem in problems:
        raise fail("targets", key, problem)

    description = document.get("description", "")
    if not isinstance(description, str):
        raise fail(None, "description", "must be a string")
    return Recipe(
        name=name,
        description=description,
        model=model,
        model_args=model_args,
        data=data_section["name"],
        train=train,
        export_name=export_name,
        max_examples=max_examples,
        source=str(path),
        weights_tag=weights_tag,
        augment=augment,
        publish=publish,
        predict_inputs=predict_inputs,
        targets=extra_targets,
    )


def _predict_inputs(
    rows: Any, spec: data_module.DatasetSpec
) -> tuple[tuple[tuple[float, ...], ...], str | None]:
    """[predict] inputs as rows of floats, or a problem: a list of feature rows the data set's width."""
    if len(spec.input.shape) != 2:
        return (
            (),
            f"takes feature rows; {spec.name} has {spec.input.dtype} images of shape {list(spec.input.shape[1:])}",
        )
    width = spec.input.shape[1]
    example = f"e.g. inputs = [[{', '.join(['1.0'] * width)}]]"
    if not isinstance(rows, (list, tuple)) or not all(
        isinstance(row, (list, tuple)) for row in rows
    ):
        return (), f"must be a list of feature rows, {example}; got {rows!r}"
    for row in rows:
        if len(row) != width or not all(checks.is_finite_number(value) for value in row):
            return (
                (),
                f"each row must be {plural(width, 'finite number')} (the features of {spec.name}), "
                f"{example}; got {list(row)!r}",
            )
    return tuple(tuple(float(value) for value in row) for row in rows), None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _train_problems(train: TrainSettings):
    """(field, problem) for every value of [train] that cannot work."""
    if train.loss not in LOSSES:
        yield (
            "loss",
            f"unknown loss {train.loss!r}{did_you_mean(str(train.loss), LOSSES)}; choose from {', '.join(LOSSES)}",
        )
    if train.optimizer not in OPTIMIZERS:
        yield (
            "optimizer",
            f"unknown optimizer {train.optimizer!r}; choose from {', '.join(OPTIMIZERS)}",
        )
    if not checks.is_finite_number(train.learning_rate) or train.learning_rate <= 0:
        yield "learning_rate", f"must be a finite number > 0, got {train.learning_rate!r}"
    if train.schedule not in SCHEDULES:
        yield "schedule", f"must be one of {', '.join(SCHEDULES)}, got {train.schedule!r}"
    if not isinstance(train.metrics, tuple) or not all(m in METRICS for m in train.metrics):
        yield "metrics", f"must be a list drawn from {', '.join(METRICS)}, got {train.metrics!r}"
    for key, low, high in (
        ("batch_size", 1, MAX_COUNT),
        ("epochs", 1, MAX_COUNT),
        ("early_stopping_patience", 0, MAX_COUNT),
        ("seed", 0, SEED_LIMIT - 1),
    ):
        value = getattr(train, key)
        if not _is_int(value) or value < low:
            yield (
                key,
                f"must be {'a positive integer' if low else 'an integer >= 0'}, got {value!r}",
            )
        elif value > high:
            yield (
                key,
                f"must be at most {high}{' (2**32 - 1)' if key == 'seed' else ''}, got {value!r}",
            )
    if not isinstance(train.refit, bool):
        yield "refit", f"must be true or false, got {train.refit!r}"


def parse_value(text: str) -> Any:
    """A --set value: a TOML value if it parses as one (3, 1e-3, true, [32, 64]), else the string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


RESULTS_FILE = "results.json"


def measured_results() -> dict[str, dict[str, Any]]:
    """The recorded full runs of the built-in recipes (written by benchmarks/publish_weights.py)."""
    path = resources.files("modelzoo.recipes").joinpath(RESULTS_FILE)
    if not path.is_file():
        return {}
    return json.loads(path.read_text()).get("recipes", {})


def format_metric(metric: str, value: float) -> str:
    """A metric as people read it: accuracies in percent, anything else to four decimals."""
    return f"{value:.2%}" if "accuracy" in metric else f"{value:.4f}"
