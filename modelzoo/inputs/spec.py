"""The error for a file that cannot become a model's input (the input itself is a
`modelzoo.registry.TensorSpec`)."""

from __future__ import annotations

from modelzoo.errors import ModelzooError


class InputError(ModelzooError):
    """A file that cannot become the model's input (exit code 2)."""

    exit_code = 2
