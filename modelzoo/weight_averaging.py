"""The moving average of the weights (`train.ema_momentum`): Keras' optimizer keeps it
(`use_ema`); this module puts it where a run is judged.

During `fit` the model trains on its own weights while the optimizer updates an exponential
moving average of them after every step (debiased: `debiased`). The validation of every epoch
scores the average (`evaluation_callbacks`), `fit` ends by copying the average into the model (so
the trained, saved and exported model is the average), and `averaged_weights` lends the average to
anything else that judges the model in between: early stopping's best weights, a benchmark's test
clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


def debiased(optimizer_class: type) -> type:
    """`optimizer_class` with its moving average debiased, as Adam debiases its moments.

    Keras' `use_ema` starts the average at the first step's weights and then mixes in each step's
    with weight 1 - momentum, so after n steps the first step's (barely trained) weights still
    count momentum**(n-1): with 0.99, 86% after 16 steps, 12% after an epoch of mnist_cnn. Debiased,
    the average after n steps weighs step i by (1 - m) m**(n-i) / (1 - m**n): a short run's average
    is the mean of its steps' weights, and a long run's is Keras' average without the first
    step's excess. The per-step momentum that gives it is m (1 - m**(n-1)) / (1 - m**n).
    """
    from keras import ops

    class Debiased(optimizer_class):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            if self.gradient_accumulation_steps:
                # The average is updated every micro-step while `iterations` counts whole steps.
                raise ValueError(
                    "the debiased moving average does not support gradient accumulation"
                )

        def _update_model_variables_moving_average(self, trainable_variables) -> None:
            if not self.use_ema:
                return
            # self.iterations counts the steps before this one.
            steps = ops.cast(self.iterations + 1, "float32")
            m = float(self.ema_momentum)
            momentum = m * (1.0 - ops.power(m, steps - 1.0)) / (1.0 - ops.power(m, steps))
            for variable, average in zip(trainable_variables, self._model_variables_moving_average):
                if average is not None:
                    rate = ops.cast(momentum, variable.dtype)
                    average.assign(rate * average + (1.0 - rate) * variable)

    Debiased.__name__ = Debiased.__qualname__ = optimizer_class.__name__
    return Debiased


def _optimizer(model):
    optimizer = getattr(model, "optimizer", None)
    return getattr(optimizer, "inner_optimizer", optimizer)  # under a LossScaleOptimizer


def keeps_average(model) -> bool:
    """Whether `model`'s optimizer keeps (or, not built yet, will keep) a moving average of its
    weights."""
    return bool(getattr(_optimizer(model), "use_ema", False))


def _pairs(model) -> list:
    """(trainable variable, its moving average) for each weight the optimizer averages; none
    before its first step (a built optimizer's averages start at zero)."""
    optimizer = _optimizer(model)
    averages = getattr(optimizer, "_model_variables_moving_average", None) or []
    if averages and int(optimizer.iterations.numpy()) == 0:
        return []
    # Keras keeps no average (None) for variables it overwrites with their gradient (float8).
    return [
        (variable, average)
        for variable, average in zip(optimizer._trainable_variables, averages)
        if average is not None
    ]


@contextlib.contextmanager
def averaged_weights(model) -> Iterator[None]:
    """Inside the block `model` holds the moving average of its weights; its own weights are put
    back after. A model whose optimizer keeps no average is left as it is."""
    pairs = _pairs(model) if keeps_average(model) else []
    own = [variable.numpy() for variable, _ in pairs]
    for variable, average in pairs:
        variable.assign(average)
    try:
        yield
    finally:
        for (variable, _), value in zip(pairs, own):
            variable.assign(value)


def evaluation_callbacks(model) -> list:
    """The Keras callbacks that make `fit`'s validation score the moving average (none when
    `model`'s optimizer keeps no average).

    Keras' own `SwapEMAWeights` swaps by arithmetic (a += b; b = a - b; a -= b), which rounds both
    the weights and their average at every validation; this one copies them, exactly.
    """
    import keras

    class ValidateWithAverage(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self._lent = contextlib.ExitStack()

        def on_test_begin(self, logs=None) -> None:
            self._lent.enter_context(averaged_weights(self.model))

        def on_test_end(self, logs=None) -> None:
            self._lent.close()

    return [ValidateWithAverage()] if keeps_average(model) else []
