"""Which losses fit a model's output and a data set's targets, decided before TensorFlow loads.

A recipe's model output is read from its card and the factory arguments that change it
(`output_units`, `classes`, `units`, `output_activation`, or the architecture of the shipped
weights it starts from); the targets from the data set's spec (`modelzoo.data.DatasetSpec`):

    softmax over N units, N-class labels    sparse_categorical_crossentropy (integer labels),
                                            categorical_crossentropy, categorical_hinge (one-hot)
    linear scores over N units, N classes   multiclass_hinge (integer labels),
                                            categorical_hinge (one-hot): multiclass SVMs
    one sigmoid unit, 0/1 labels            binary_crossentropy, mean_squared_error (Brier score)
    one linear unit, real-valued targets    mean_squared_error, mean_absolute_error

The two hinges differ: multiclass_hinge (modelzoo's, `modelzoo.keras_losses.MulticlassHinge`) is
the multiclass SVM loss of Weston and Watkins, sum over the wrong classes j of
max(0, s_j - s_y + 1); Keras' categorical_hinge is max(0, 1 + max_j s_j - s_y) with the max over
the wrong classes' scores and the true class's 0 (one-hot targets), a single margin.

Anything else either fails inside TensorFlow after the run has started (shape mismatches) or
trains to nonsense and exits 0 (a softmax over one unit, a hinge on a regression), so it is
refused with the losses that would fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelzoo.errors import UsageError

if TYPE_CHECKING:
    import keras

#: Every loss a recipe can name (`train.loss`).
LOSSES = (
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "categorical_hinge",
    "multiclass_hinge",
    "mean_squared_error",
    "mean_absolute_error",
)
#: Losses that compare against one-hot targets rather than integer class labels.
ONE_HOT_LOSSES = ("categorical_crossentropy", "categorical_hinge")
#: modelzoo's own losses: name -> class in `modelzoo.keras_losses`; the others are Keras' built-ins of that name.
OWN_LOSSES = {"multiclass_hinge": "MulticlassHinge"}
#: Losses that need linear scores: a margin of 1 between probabilities is never met.
SCORE_LOSSES = ("multiclass_hinge",)

#: Factory arguments that set the number of output units, and the output activation.
UNITS_ARGUMENTS = ("output_units", "classes", "units")
ACTIVATION_ARGUMENTS = ("output_activation",)


@dataclass(frozen=True)
class Output:
    """A model's last layer: how many units and which activation ("linear" for none)."""

    units: int
    activation: str

    def describe(self) -> str:
        kind = {"softmax": "softmax probabilit", "sigmoid": "sigmoid probabilit"}.get(
            self.activation
        )
        if kind:
            return f"{self.units} {kind}{'y' if self.units == 1 else 'ies'}"
        activation = "linear" if self.activation == "linear" else self.activation
        return f"{self.units} {activation} score{'s' * (self.units != 1)}"


def keras_loss(name: str) -> str | keras.losses.Loss:
    """What `model.compile(loss=...)` takes for loss `name`: Keras' built-in name, or modelzoo's loss object."""
    if name not in LOSSES:
        raise UsageError(f"unknown loss {name!r}; choose from {', '.join(LOSSES)}")
    if name not in OWN_LOSSES:
        return name
    from modelzoo import keras_losses

    return getattr(keras_losses, OWN_LOSSES[name])()


def model_output(model: str, model_args: dict[str, Any]) -> Output:
    """The output of zoo model `model` built with `model_args` (checked ones), without building it."""
    from modelzoo import weights as shipped
    from modelzoo.registry import factory_parameters, model_card

    card = model_card(model)
    parameters = factory_parameters(model)
    arguments = {key: parameter.default for key, parameter in parameters.items()}
    tag = model_args.get("weights")
    if isinstance(tag, str) and not shipped.is_path(tag):
        arguments.update(shipped.STORE.get(model, tag).model_args)
    arguments.update({k: v for k, v in model_args.items() if k != "weights"})
    units = next((arguments[k] for k in UNITS_ARGUMENTS if k in parameters), card.output.shape[-1])
    activation = next(
        (arguments[k] for k in ACTIVATION_ARGUMENTS if k in parameters), card.output_activation
    )
    return Output(int(units), activation or "linear")


def fitting_losses(output: Output, target: str, classes: int | None) -> tuple[str, ...]:
    """The losses that train `output` against targets of kind `target` ("class", "binary", "value")."""
    if target == "class" and classes is not None and output.units == classes > 1:
        if output.activation == "softmax":
            return (
                "sparse_categorical_crossentropy",
                "categorical_crossentropy",
                "categorical_hinge",
            )
        if output.activation == "linear":
            return ("multiclass_hinge", "categorical_hinge")
    if target == "binary" and output.units == 1 and output.activation == "sigmoid":
        return ("binary_crossentropy", "mean_squared_error")
    if target == "value" and output.units == 1 and output.activation == "linear":
        return ("mean_squared_error", "mean_absolute_error")
    return ()


def loss_problem(
    loss: str, model: str, model_args: dict[str, Any], data: str
) -> tuple[str, str] | None:
    """("section.field", why) if `loss` cannot train `model` (with `model_args`) on data set `data`, else None.

    The field is train.loss when another loss would fit, else the model argument that set the
    output (or model.name): then no loss fits.
    """
    from modelzoo.data import DATASETS

    spec = DATASETS[data]
    output = model_output(model, model_args)
    fits = fitting_losses(output, spec.target, spec.classes)
    if loss in fits:
        return None
    targets = {
        "class": f"{spec.classes} classes (integer labels)",
        "binary": "0/1 labels",
        "value": "real-valued targets",
    }[spec.target]
    what = f"{model} gives {output.describe()} and {data} has {targets}"
    if fits:
        why = (
            f"; {loss} needs linear scores, not probabilities"
            if loss in SCORE_LOSSES and output.activation in ("softmax", "sigmoid")
            else ""
        )
        return "train.loss", f"{loss} does not fit: {what}{why}; losses that fit: {', '.join(fits)}"
    score_losses = fitting_losses(Output(spec.classes or 0, "linear"), "class", spec.classes)
    needed = {
        "class": f"{spec.classes} softmax units (or {spec.classes} linear scores, for {' or '.join(score_losses)})",
        "binary": "one sigmoid unit",
        "value": "one linear unit",
    }[spec.target]
    field = next(
        (k for k in (*UNITS_ARGUMENTS, *ACTIVATION_ARGUMENTS, "weights") if k in model_args), "name"
    )
    return f"model.{field}", f"no loss fits: {what}; the model needs {needed}"
