"""MNIST, through tensorflow-datasets: the zoo's image data set, and the input its models take."""

from __future__ import annotations

from modelzoo.datasets.registry import DatasetSpec, register_dataset
from modelzoo.registry import TensorSpec

#: One batch of MNIST images as the models take them: raw uint8 pixels, scaled inside the model.
MNIST_IMAGE = TensorSpec("image", (None, 28, 28, 1), "uint8")

register_dataset(
    DatasetSpec(
        name="mnist",
        description="Handwritten digits 0-9, 28x28 grey images; 60000 train, 10000 test.",
        input=MNIST_IMAGE,
        target="class",
        classes=10,
        tfds_name="mnist",
        # The dev split is carved from train (the last 10%); the test split is never used to
        # choose anything.
        splits=("train[:90%]", "train[90%:]", "test"),
        class_names=tuple("0123456789"),
        licence="CC BY-SA 3.0; Yann LeCun, Corinna Cortes, Christopher J.C. Burges",
        origin=(
            "tensorflow-datasets 'mnist' (the four original IDX files, checksums as tfds "
            "registers them)"
        ),
    )
)
