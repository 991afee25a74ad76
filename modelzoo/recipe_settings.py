"""What a recipe says, once read and checked: `Recipe`, its `TrainSettings`, and the sections and
values a recipe file may have (modelzoo.recipe_file reads the file, modelzoo.recipe_check checks it).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from modelzoo import checks, gate
from modelzoo.augment import Augmentation
from modelzoo.losses import ONE_HOT_LOSSES
from modelzoo.targets import FIELDS as TARGET_FIELDS
from modelzoo.targets import Targets

OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop")
SCHEDULES = ("constant", "cosine")
#: Keras dtype policies a recipe may train under: "mixed_bfloat16" computes in bfloat16 (oneDNN's
#: AVX-512 BF16 kernels on CPUs that have them) and keeps variables, outputs and the loss float32;
#: "auto" is "mixed_bfloat16" where the hardware has bfloat16 arithmetic and "float32" elsewhere,
#: where emulated bfloat16 trains several times slower (`modelzoo.hardware`).
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
METRICS = ("accuracy", "mean_absolute_error", "mean_squared_error", "auc")
#: The largest count (epochs, batch size, patience, examples): TensorFlow keeps these in int32.
MAX_COUNT = checks.MAX_INT
#: Seeds are what `keras.utils.set_random_seed` (numpy) takes: 0 <= seed < 2**32.
SEED_LIMIT = checks.SEED_LIMIT


@dataclass(frozen=True)
class TrainSettings:
    """How to fit: loss, optimizer and learning rate, metrics, batches, epochs, early stopping."""

    loss: str
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    schedule: str = "constant"
    #: Epochs (fractions allowed) over which the rate rises linearly from 0 to `learning_rate`
    #: before the schedule takes over.
    warmup_epochs: float = 0.0
    metrics: tuple[str, ...] = ("accuracy",)
    batch_size: int = 32
    epochs: int = 10
    early_stopping_patience: int = 0
    seed: int = 0
    #: The Keras dtype policy the model trains under (PRECISIONS; "auto" is resolved on the
    #: machine that trains, `recipe_model.training_precision`); the exported model is float32.
    precision: str = "float32"
    #: Batches per call of the compiled training step (Keras' `steps_per_execution`): fewer trips
    #: through Python per epoch for small models.
    steps_per_execution: int = 1
    #: Momentum of an exponential moving average of the weights kept by the optimizer (0: none).
    #: Validation, early stopping and the trained model use the average, which is less noisy
    #: than the last step's weights while the rate is still high.
    ema_momentum: float = 0.0
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
    #: The formats a run publishes (`[export] formats`, or `--format`; `modelzoo.exporters`), the
    #: SavedModel always among them; like `publish`, not part of `to_dict()`.
    export_formats: tuple[str, ...] = ("savedmodel",)

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
                    "train": _train_dict(self.train),
                    **({"augment": self.augment.to_dict()} if self.augment else {}),
                    "export": {
                        "name": self.export_name,
                        **({"weights_tag": self.weights_tag} if self.weights_tag else {}),
                    },
                    "source": self.source,
                }
            )
        )


#: [train] fields added after weights were first recorded: to_dict() leaves them out at their
#: defaults, so that the settings recorded with earlier runs and shipped weights still compare equal.
LATER_TRAIN_FIELDS = ("warmup_epochs", "precision", "steps_per_execution", "ema_momentum")


def _train_dict(train: TrainSettings) -> dict[str, Any]:
    """[train] as data, without the later fields that are at their defaults."""
    defaults = TrainSettings(loss=train.loss)
    return {
        key: value
        for key, value in dataclasses.asdict(train).items()
        if key not in LATER_TRAIN_FIELDS or value != getattr(defaults, key)
    }


SECTIONS = {
    "model": None,  # any keyword of the model's factory
    "data": ("name", "max_examples"),
    "train": tuple(f.name for f in dataclasses.fields(TrainSettings)),
    "augment": tuple(f.name for f in dataclasses.fields(Augmentation)),
    "export": ("name", "weights_tag", "formats"),
    "publish": gate.FIELDS,
    "predict": ("inputs",),
    "targets": TARGET_FIELDS,
}
