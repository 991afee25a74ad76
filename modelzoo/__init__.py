"""modelzoo: classic small Keras 3 networks with model cards, trained by recipes, served by TF Serving.

    >>> import modelzoo
    >>> modelzoo.list_models("*mnist*")
    ['softmax_mnist_classifier']
    >>> model = modelzoo.create_model("small_cnn", filters=(16, 32), seed=0)

Importing modelzoo does not import TensorFlow; building a model does.
"""

from modelzoo import models as _models  # noqa: F401  (registers the zoo)
from modelzoo.errors import ModelzooError, UsageError
from modelzoo.registry import (
    ModelCard,
    TensorSpec,
    check_arguments,
    create_model,
    list_models,
    model_card,
)

__version__ = "0.1.0"

__all__ = [
    "ModelCard",
    "ModelzooError",
    "TensorSpec",
    "UsageError",
    "check_arguments",
    "create_model",
    "list_models",
    "model_card",
]
