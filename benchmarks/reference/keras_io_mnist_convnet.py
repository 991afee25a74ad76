"""The keras-io "Simple MNIST convnet" example as published, as one script a user would run.

    python benchmarks/reference/keras_io_mnist_convnet.py [--seed N]

https://keras.io/examples/vision/mnist_convnet/: float input in [0, 1], Conv2D(32, 3) ReLU,
MaxPooling 2, Conv2D(64, 3) ReLU, MaxPooling 2, Flatten, Dropout 0.5, Dense(10) softmax; Adam at
its defaults, categorical cross-entropy, batch 128, 15 epochs, validation_split 0.1, NumPy arrays
in memory, then one evaluation on the test split. The one change: the example downloads MNIST with
`keras.datasets.mnist.load_data()`; offline, the same 70,000 images come from the tfds copy the
zoo reads (prepared from `$MODELZOO_DATA_MIRROR` if needed). benchmarks/side_by_side.py times this
script as a whole process against `python -m modelzoo.recipes mnist_cnn`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def mnist_arrays(mirror: str | None):
    """MNIST train and test as NumPy arrays ([0, 1] floats, one-hot labels), from tfds."""
    import numpy as np
    import tensorflow_datasets as tfds

    from modelzoo import data

    data.load("mnist", mirror=mirror)  # prepares the tfds data from the mirror if needed
    arrays = {}
    for split in ("train", "test"):
        x, y = tfds.as_numpy(tfds.load("mnist", split=split, as_supervised=True, batch_size=-1))
        arrays[split] = (x.astype("float32") / 255, np.eye(10, dtype="float32")[y])
    return arrays


def convnet():
    """The example's model, layer for layer."""
    import keras

    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dropout(0.5),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )


def train(arrays, *, epochs: int = 15, callbacks=()):
    """Compile and fit as the example does; the fitted model."""
    x_train, y_train = arrays["train"]
    model = convnet()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(
        x_train,
        y_train,
        batch_size=128,
        epochs=epochs,
        validation_split=0.1,
        callbacks=list(callbacks),
        verbose=0,
    )
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--data-mirror", default=os.environ.get("MODELZOO_DATA_MIRROR"))
    args = parser.parse_args()
    import keras

    keras.utils.set_random_seed(args.seed)
    arrays = mnist_arrays(args.data_mirror)
    model = train(arrays, epochs=args.epochs)
    loss, accuracy = model.evaluate(*arrays["test"], verbose=0)
    # what benchmarks/side_by_side.py records of this process (not part of keras-io's example)
    from tensorflow.python.util import _pywrap_util_port

    kernels = "oneDNN" if _pywrap_util_port.IsMklEnabled() else "Eigen"
    print(
        json.dumps({"test_loss": float(loss), "test_accuracy": float(accuracy), "kernels": kernels})
    )


if __name__ == "__main__":
    main()
