"""The model registry: `@register_model` puts a factory and its card in the zoo.

The card is data written beside the factory; the tests build every registered model and check
the card against it (parameter count, input and output names, shapes and dtypes), so the two
cannot drift apart. Which recipes train a model is not typed on the card: `model_card` reads it
from the recipe files that name the model. Nothing here imports TensorFlow, and nothing here
imports the zoo's model modules: `modelzoo.models` (imported by `import modelzoo`) registers them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from modelzoo import recipe_index
from modelzoo import weights as shipped
from modelzoo._lazy import Blocked, no_heavy_imports
from modelzoo.errors import UsageError
from modelzoo.words import did_you_mean  # noqa: F401  (importable from here, as callers do)

if TYPE_CHECKING:
    import keras

#: Why the zoo starts from small random weights: the card of every model says so.
RANDOM_INIT = (
    "Glorot-uniform kernels (small random values scaled to the layer's fan-in and fan-out) and "
    "zero biases; initializer='small_normal' draws the kernels from a normal distribution with "
    "mean 0 and standard deviation 0.01 instead. Weights are never all zero: units that start "
    "identical receive identical gradients and stay identical, so a layer of them would learn no "
    "more than one unit."
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

    @classmethod
    def of_example(cls, name: str, shape: tuple[int | None, ...], dtype: str) -> TensorSpec:
        """The spec of a batch of examples of the given shape (a signature's tensor, say)."""
        return cls(name, (None, *shape), dtype)

    @property
    def example_shape(self) -> tuple[int | None, ...]:
        """The shape of one example: the shape without the batch dimension."""
        return self.shape[1:]

    @property
    def is_image(self) -> bool:
        """One example is height x width x 1 or 3 channels, of fixed size."""
        shape = self.example_shape
        return len(shape) == 3 and shape[-1] in (1, 3) and None not in shape

    def example(self) -> str:
        """One example as error messages and serving records show it: 'image uint8[28,28,1]'."""
        dims = ",".join("?" if d is None else str(d) for d in self.example_shape)
        return f"{self.name} {self.dtype}[{dims}]"


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
    #: The recipes that train it (the recipe files whose [model] names it), filled by `model_card`.
    recipes: tuple[str, ...] = ()
    initialization: str = RANDOM_INIT
    #: The trained weights that ship for this model (`create_model(name, weights=tag)`).
    weights: tuple[shipped.Weights, ...] = ()

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
) -> Callable[[Callable[..., keras.Sequential]], Callable[..., keras.Sequential]]:
    """Register a factory under its function name with a card; the docstring's first
    paragraph becomes the card's description. `parameters` is the count at the defaults (the
    schema tests check it against the built model's `count_params()`)."""

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
        )
        _REGISTRY[name] = _Entry(factory, card)
        return factory

    return decorate


def list_models(pattern: str = "*", *, pretrained: bool = False) -> list[str]:
    """Names of the registered models matching a shell-style wildcard, sorted; with
    `pretrained=True` only those that ship trained weights."""
    names = sorted(name for name in _REGISTRY if fnmatch.fnmatchcase(name, pattern))
    return [name for name in names if shipped.STORE.for_model(name)] if pretrained else names


def unregister_model(name: str) -> None:
    """Remove a model from the zoo (for tests that register a throwaway one)."""
    _REGISTRY.pop(name, None)


def model_card(name: str) -> ModelCard:
    """The card of a registered model, with the recipes that train it and the weights that ship."""
    return dataclasses.replace(
        _lookup(name).card,
        recipes=trained_by(name),
        weights=shipped.STORE.for_model(name),
    )


def trained_by(name: str) -> tuple[str, ...]:
    """The recipes (built-in first, then the recipe path's) whose [model] is this model."""
    return _recipes_by_model(tuple(recipe_index.recipe_names()), recipe_index.recipe_path()).get(
        name, ()
    )


@functools.cache
def _recipes_by_model(names: tuple[str, ...], path: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    index: dict[str, tuple[str, ...]] = {}
    for recipe in names:
        model = recipe_index.model_of(recipe)
        index[model] = (*index.get(model, ()), recipe)
    return index


def model_factory(name: str) -> Callable[..., keras.Sequential]:
    """The factory function of a registered model."""
    return _lookup(name).factory


def check_arguments(name: str, weights: str | None = None, **overrides: Any) -> None:
    """Run a model's argument and weights checks without building it; raise UsageError.

    Holds for a factory in any module: within `no_heavy_imports` every LazyModule and a first
    import of TensorFlow or Keras stop the factory (`Blocked`) once its checks have passed.
    """
    with no_heavy_imports():
        try:
            create_model(name, weights=weights, **overrides)
        except Blocked:
            return


def factory_parameters(name: str) -> dict[str, inspect.Parameter]:
    """The keyword arguments a model's factory takes, with their defaults."""
    return dict(inspect.signature(_lookup(name).factory).parameters)


def create_model(name: str, *, weights: str | None = None, **overrides: Any) -> keras.Sequential:
    """Build a registered model, uncompiled, with keyword overrides of its defaults.

    `weights` loads trained weights: a tag that ships with the zoo (`model_card(name).weights`;
    the model is built with the architecture they were trained with) or a path to a
    `.weights.h5` file. Unknown names, keywords and tags, bad values, a damaged weights file and
    overrides that would change a shipped entry's architecture raise `UsageError` (a ValueError)
    before any TensorFlow work.
    """
    entry = _lookup(name)
    accepted = factory_parameters(name)
    for keyword in overrides:
        if keyword not in accepted:
            raise UsageError(
                f"{name}: unknown argument {keyword!r}{did_you_mean(keyword, accepted)}; "
                f"it takes {', '.join(accepted)}, weights"
            )
    path = None
    if weights is not None:
        defaults = {key: parameter.default for key, parameter in accepted.items()}
        path, overrides = shipped.resolve(name, weights, overrides, defaults)
    try:
        model = entry.factory(**overrides)
    except UsageError as error:
        raise UsageError(f"{name}: {error}", field=error.field, problem=error.problem) from None
    if path is not None:
        shipped.load_into(model, path, name)
    return model


def _lookup(name: str) -> _Entry:
    if not isinstance(name, str) or name not in _REGISTRY:
        raise UsageError(
            f"unknown model {name!r}{did_you_mean(str(name), _REGISTRY)}; "
            f"the zoo has {', '.join(list_models())}"
        )
    return _REGISTRY[name]
