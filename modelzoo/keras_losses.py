"""modelzoo's own Keras losses (this module imports Keras: import it only to compile or load a model).

A recipe names them like Keras' built-ins (`train.loss = "multiclass_hinge"`);
`modelzoo.losses.keras_loss` turns the name into what `model.compile` takes. A `.keras` file
saved from a model compiled with one of them loads once this module has been imported.
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="modelzoo")
class MulticlassHinge(keras.losses.Loss):
    """The multiclass SVM (Weston-Watkins) hinge loss over integer labels and linear scores.

    For scores s and label y: L = sum over j != y of max(0, s_j - s_y + margin), averaged over
    the batch. Keras' `categorical_hinge` is a different loss: max(0, 1 + max_{j != y} s_j - s_y)
    over one-hot targets, the largest wrong score only. Labels are shaped (batch,) or (batch, 1),
    int or float; scores (batch, classes). The L2 penalty of an SVM comes from the model's kernel
    regularizers, not from here.
    """

    def __init__(
        self,
        margin: float = 1.0,
        name: str = "multiclass_hinge",
        reduction: str = "sum_over_batch_size",
        dtype: Any = None,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = float(margin)

    def call(self, y_true, y_pred):
        scores = ops.convert_to_tensor(y_pred)
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == len(scores.shape):  # (batch, 1) -> (batch,)
            labels = ops.squeeze(labels, axis=-1)
        true_scores = ops.take_along_axis(scores, ops.expand_dims(labels, -1), axis=-1)
        margins = ops.maximum(scores - true_scores + ops.cast(self.margin, scores.dtype), 0)
        wrong = ops.one_hot(labels, ops.shape(scores)[-1], dtype=scores.dtype) == 0
        return ops.sum(ops.where(wrong, margins, ops.zeros_like(margins)), axis=-1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "margin": self.margin}
