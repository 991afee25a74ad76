"""The model a recipe trains: built (seeded, maybe from weights), its optimizer, compiled; and its
weights saved on their own."""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Iterator
from pathlib import Path

from modelzoo import checkpoint, hardware, weight_averaging
from modelzoo.losses import keras_loss
from modelzoo.recipe_file import Recipe
from modelzoo.registry import create_model, factory_parameters


def build_model(recipe: Recipe, *, pretrained: bool = True, precision: str | None = None):
    """The recipe's model (starting from `model.weights` if the recipe names some, unless
    `pretrained` is False), seeded by the recipe unless its overrides set a seed, its layers under
    the dtype policy `precision` (default the one the recipe trains under, `training_precision`)."""
    arguments = dict(recipe.model_args if pretrained else recipe.architecture)
    if "seed" in factory_parameters(recipe.model) and "seed" not in arguments:
        arguments["seed"] = recipe.train.seed
    with dtype_policy(precision or training_precision(recipe)):
        return create_model(recipe.model, **arguments)


def training_precision(recipe: Recipe) -> str:
    """The Keras dtype policy `recipe` trains under on this machine: its `train.precision`, with
    "auto" resolved by the hardware (`modelzoo.hardware.auto_precision`)."""
    precision = recipe.train.precision
    return _auto_precision() if precision == "auto" else precision


@functools.cache
def _auto_precision() -> str:
    """What "auto" stands for on this machine, looked up once per process."""
    return hardware.auto_precision()


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy set to `name` while layers are made, then put back."""
    import keras

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def make_optimizer(recipe: Recipe, steps_per_epoch: int):
    """The recipe's optimizer; the cosine schedule decays the rate to 0 over all epochs (after
    the linear warm-up of `train.warmup_epochs`, if any). With `train.ema_momentum` it keeps a
    moving average of the weights (`modelzoo.weight_averaging`)."""
    import keras

    settings = recipe.train
    rate = settings.learning_rate
    warmup_steps = round(settings.warmup_epochs * steps_per_epoch)
    if settings.schedule == "cosine" or warmup_steps:
        # From 0 up to the rate over the warm-up, then cosine decay to 0 over the remaining
        # steps; alpha=1 keeps a "constant" schedule at the rate after its warm-up.
        rate = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup_steps else rate,
            decay_steps=max(steps_per_epoch * settings.epochs - warmup_steps, 1),
            alpha=0.0 if settings.schedule == "cosine" else 1.0,
            warmup_target=rate if warmup_steps else None,
            warmup_steps=warmup_steps,
        )
    optimizers = {
        "adam": keras.optimizers.Adam,
        "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
    }
    if not settings.ema_momentum:
        return optimizers[settings.optimizer](learning_rate=rate)
    optimizer_class = weight_averaging.debiased(optimizers[settings.optimizer])
    return optimizer_class(learning_rate=rate, use_ema=True, ema_momentum=settings.ema_momentum)


def compile_model(model, recipe: Recipe, examples: int) -> None:
    """Compile `model` as `recipe` trains it on `examples` examples: optimizer, loss (by name) and metrics."""
    import tensorflow as tf

    settings = recipe.train
    model.compile(
        optimizer=make_optimizer(recipe, math.ceil(examples / settings.batch_size)),
        loss=keras_loss(settings.loss),
        metrics=list(settings.metrics),
        # Keras' multi-step loop fails under a tf.distribute strategy ("You must feed a value for
        # placeholder tensor ... while/cond"), measured with mirrored CPU replicas: one step there.
        steps_per_execution=1 if tf.distribute.has_strategy() else settings.steps_per_execution,
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
    """A float32 copy of `model` built outside any distribution strategy: free of distributed
    variables, and computing in float32 whatever precision the model trained in."""
    import keras

    copy = build_model(recipe, pretrained=False, precision="float32")
    copy.set_weights(model.get_weights())
    for layer in copy.layers:  # set_weights leaves a Normalization's mean and variance unadapted
        if isinstance(layer, keras.layers.Normalization):
            layer.finalize_state()
    return copy


def save_weights(model, recipe: Recipe, path: Path) -> None:
    """The model's weights alone, via a temporary file and a rename so a reader never sees half a file.

    A compiled model's `save_weights` also writes its optimizer's state (Adam: twice the model's
    size); a fresh copy of the recipe's model, uncompiled, holds the weights without it.
    """
    checkpoint.save_weights_atomically(one_device_copy(model, recipe), path)
