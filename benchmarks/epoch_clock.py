"""A Keras callback recording each epoch's wall time, for the benchmarks that time training."""

from __future__ import annotations

import time


def epoch_clock():
    """A Keras callback whose `.seconds` lists each epoch's wall time, first epoch included."""
    import keras

    class EpochClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None) -> None:
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None) -> None:
            self.seconds.append(time.perf_counter() - self.start)

    return EpochClock()
