"""The model registry: `@register_model` puts a factory and its card in the zoo.

The card is data written beside the factory; the tests build every registered model and check
the card against it (parameter count, input and output names, shapes and dtypes), so the two
cannot drift apart. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import inspect
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from modelzoo.errors import UsageError

if TYPE_CHECKING:
    import keras

#: Why the zoo starts from small random weights: the card of every model says so.
RANDOM_INIT = (
    "Glorot-uniform kernels (small random values scaled to the layer's fan-in and fan-out) and "
    "zero biases. Weights are never all zero: units that start identical receive identical "
    "gradients and stay identical, so a layer of them would learn no more than one unit."
)


@dataclass(frozen=True)
class TensorSpec:
    """Name, shape (batch dimension first, None for any) and dtype of a model input or output.

    The name is the layer's name, which becomes the key in the TF Serving signature.
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    def __str__(self) -> str:
        dims = ", ".join("None" if d is None else str(d) for d in self.shape)
        return f"{self.name}: {self.dtype}[{dims}]"


@dataclass(frozen=True)
class ModelCard:
    """What a zoo model is for and what it takes and gives, at its default configuration."""

    name: str
    task: str
    input: TensorSpec
    output: TensorSpec
    output_activation: str | None
    default_loss: str
    default_metrics: tuple[str, ...]
    parameters: int
    description: str
    recipes: tuple[str, ...]
    initialization: str = RANDOM_INIT

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON data: dicts, lists, strings and numbers (equal to its JSON round trip)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))


@dataclass(frozen=True)
class _Entry:
    factory: Callable[..., keras.Sequential]
    card: ModelCard


_REGISTRY: dict[str, _Entry] = {}


def register_model(
    *,
    task: str,
    input: TensorSpec,
    output: TensorSpec,
    output_activation: str | None,
    default_loss: str,
    default_metrics: tuple[str, ...],
    parameters: int,
    recipes: tuple[str, ...] = (),
) -> Callable[[Callable[..., keras.Sequential]], Callable[..., keras.Sequential]]:
    """Register a factory under its function name with a card; the docstring's first
    paragraph becomes the card's description."""

    def decorate(factory: Callable[..., keras.Sequential]) -> Callable[..., keras.Sequential]:
        name = factory.__name__
        if name in _REGISTRY:
            raise RuntimeError(f"model {name!r} is registered twice")
        description = " ".join(inspect.cleandoc(factory.__doc__ or "").split("\n\n")[0].split())
        card = ModelCard(
            name=name,
            task=task,
            input=input,
            output=output,
            output_activation=output_activation,
            default_loss=default_loss,
            default_metrics=tuple(default_metrics),
            parameters=parameters,
            description=description,
            recipes=tuple(recipes),
        )
        _REGISTRY[name] = _Entry(factory, card)
        return factory

    return decorate


def list_models(pattern: str = "*") -> list[str]:
    """Names of the registered models matching a shell-style wildcard, sorted."""
    return sorted(name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern))


def model_card(name: str) -> ModelCard:
    """The card of a registered model."""
    return _lookup(name).card


def model_factory(name: str) -> Callable[..., keras.Sequential]:
    """The factory function of a registered model."""
    return _lookup(name).factory


def check_arguments(name: str, **overrides: Any) -> None:
    """Run a model's argument checks without building it (no TensorFlow); raise UsageError."""
    from modelzoo import models
    from modelzoo._lazy import Blocked

    with models.keras.blocked():
        try:
            create_model(name, **overrides)
        except Blocked:
            return


def create_model(name: str, **overrides: Any) -> keras.Sequential:
    """Build a registered model, uncompiled, with keyword overrides of its defaults.

    Unknown names and keywords, and bad values, raise `UsageError` (a ValueError) before any
    TensorFlow work.
    """
    entry = _lookup(name)
    accepted = inspect.signature(entry.factory).parameters
    for keyword in overrides:
        if keyword not in accepted:
            raise UsageError(
                f"{name}: unknown argument {keyword!r}{did_you_mean(keyword, accepted)}; "
                f"it takes {', '.join(accepted)}"
            )
    try:
        return entry.factory(**overrides)
    except UsageError as error:
        raise UsageError(f"{name}: {error}") from None


def _lookup(name: str) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UsageError(
            f"unknown model {name!r}{did_you_mean(str(name), _REGISTRY)}; "
            f"the zoo has {', '.join(list_models())}"
        )
    return _REGISTRY[name]


def did_you_mean(word: str, candidates) -> str:
    """' (did you mean ...?)' for close matches or candidates containing the word, else ''."""
    candidates = list(candidates)
    matches = difflib.get_close_matches(word, candidates, n=3, cutoff=0.6)
    matches += [c for c in candidates if word and word in c and c not in matches]
    if not matches:
        return ""
    return " (did you mean " + " or ".join(repr(m) for m in matches[:3]) + "?)"
