"""The model a recipe trains: built (seeded, maybe from weights), its optimizer, compiled; and its
weights saved on their own."""

from __future__ import annotations

import math
from pathlib import Path

from modelzoo import checkpoint
from modelzoo.losses import keras_loss
from modelzoo.recipe_file import Recipe
from modelzoo.registry import create_model, factory_parameters


def build_model(recipe: Recipe, *, pretrained: bool = True):
    """The recipe's model (starting from `model.weights` if the recipe names some, unless
    `pretrained` is False), seeded by the recipe unless its overrides set a seed."""
    arguments = dict(recipe.model_args if pretrained else recipe.architecture)
    if "seed" in factory_parameters(recipe.model) and "seed" not in arguments:
        arguments["seed"] = recipe.train.seed
    return create_model(recipe.model, **arguments)


def make_optimizer(recipe: Recipe, steps_per_epoch: int):
    """The recipe's optimizer; the cosine schedule decays the rate to 0 over all epochs."""
    import keras

    settings = recipe.train
    rate = settings.learning_rate
    if settings.schedule == "cosine":
        rate = keras.optimizers.schedules.CosineDecay(
            rate, decay_steps=steps_per_epoch * settings.epochs
        )
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    return optimizers[settings.optimizer](learning_rate=rate)


def compile_model(model, recipe: Recipe, examples: int) -> None:
    """Compile `model` as `recipe` trains it on `examples` examples: optimizer, loss (by name) and metrics."""
    settings = recipe.train
    model.compile(
        optimizer=make_optimizer(recipe, math.ceil(examples / settings.batch_size)),
        loss=keras_loss(settings.loss),
        metrics=list(settings.metrics),
    )


def compiled_model(recipe: Recipe, strategy, train, examples: int):
    """The recipe's model under `strategy`, its Normalization layers adapted to `train`, compiled."""
    import keras

    with strategy.scope():
        model = build_model(recipe)
        for layer in model.layers:  # weights to fine-tune from bring their own statistics
            if isinstance(layer, keras.layers.Normalization) and "weights" not in recipe.model_args:
                layer.adapt(train.map(lambda x, y: x))
        compile_model(model, recipe, examples)
    return model


def one_device_copy(model, recipe: Recipe):
    """A copy of `model` built outside any distribution strategy, free of distributed variables."""
    copy = build_model(recipe, pretrained=False)
    copy.set_weights(model.get_weights())
    return copy


def save_weights(model, recipe: Recipe, path: Path) -> None:
    """The model's weights alone, via a temporary file and a rename so a reader never sees half a file.

    A compiled model's `save_weights` also writes its optimizer's state (Adam: twice the model's
    size); a fresh copy of the recipe's model, uncompiled, holds the weights without it.
    """
    checkpoint.save_weights_atomically(one_device_copy(model, recipe), path)
