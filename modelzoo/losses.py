"""Which losses fit a model's output and a data set's targets, decided before TensorFlow loads.

A recipe's model output is read from its card and the factory arguments that change it
(`output_units`, `classes`, `units`, `output_activation`, or the architecture of the shipped
weights it starts from); the targets from the data set's spec (`modelzoo.data.DatasetSpec`):

    softmax over N units, N-class labels    sparse_categorical_crossentropy (integer labels),
                                            categorical_crossentropy, categorical_hinge (one-hot)
    linear scores over N units, N classes   categorical_hinge (a multiclass SVM)
    one sigmoid unit, 0/1 labels            binary_crossentropy, mean_squared_error (Brier score)
    one linear unit, real-valued targets    mean_squared_error

Anything else either fails inside TensorFlow after the run has started (shape mismatches) or
trains to nonsense and exits 0 (a softmax over one unit, a hinge on a regression), so it is
refused with the losses that would fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Factory arguments that set the number of output units, and the output activation.
UNITS_ARGUMENTS = ("output_units", "classes", "units")
ACTIVATION_ARGUMENTS = ("output_activation",)


@dataclass(frozen=True)
class Output:
    """A model's last layer: how many units and which activation ("linear" for none)."""

    units: int
    activation: str

    def describe(self) -> str:
        kind = {"softmax": "softmax probabilit", "sigmoid": "sigmoid probabilit"}.get(self.activation)
        if kind:
            return f"{self.units} {kind}{'y' if self.units == 1 else 'ies'}"
        return f"{self.units} {'linear' if self.activation == 'linear' else self.activation} score{'s' * (self.units != 1)}"


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
    activation = next((arguments[k] for k in ACTIVATION_ARGUMENTS if k in parameters), card.output_activation)
    return Output(int(units), activation or "linear")


def fitting_losses(output: Output, target: str, classes: int | None) -> tuple[str, ...]:
    """The losses that train `output` against targets of kind `target` ("class", "binary", "value")."""
    if target == "class" and classes is not None and output.units == classes > 1:
        if output.activation == "softmax":
            return ("sparse_categorical_crossentropy", "categorical_crossentropy", "categorical_hinge")
        if output.activation == "linear":
            return ("categorical_hinge",)
    if target == "binary" and output.units == 1 and output.activation == "sigmoid":
        return ("binary_crossentropy", "mean_squared_error")
    if target == "value" and output.units == 1 and output.activation == "linear":
        return ("mean_squared_error",)
    return ()


def loss_problem(loss: str, model: str, model_args: dict[str, Any], data: str) -> tuple[str, str] | None:
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
    targets = {"class": f"{spec.classes} classes (integer labels)", "binary": "0/1 labels",
               "value": "real-valued targets"}[spec.target]
    what = f"{model} gives {output.describe()} and {data} has {targets}"
    if fits:
        return "train.loss", f"{loss} does not fit: {what}; losses that fit: {', '.join(fits)}"
    needed = {
        "class": f"{spec.classes} softmax units (or linear scores, for categorical_hinge)",
        "binary": "one sigmoid unit",
        "value": "one linear unit",
    }[spec.target]
    field = next((k for k in (*UNITS_ARGUMENTS, *ACTIVATION_ARGUMENTS, "weights") if k in model_args), "name")
    return f"model.{field}", f"no loss fits: {what}; the model needs {needed}"
