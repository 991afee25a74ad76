"""A module stand-in that imports the real module on first attribute access.

`keras = LazyModule("keras")` keeps code readable as plain Keras while `import modelzoo`,
`--help` and listing stay instant: TensorFlow loads only when a model is actually built.
"""

from __future__ import annotations

import contextlib
import importlib
from types import ModuleType


class Blocked(Exception):
    """Raised by a blocked LazyModule at its first use: the code before it has run."""


class LazyModule:
    """Proxy for a module that is imported the first time one of its attributes is read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None
        self._blocked = False

    @contextlib.contextmanager
    def blocked(self):
        """Within this block, using the module raises `Blocked` instead of importing it.

        Lets a factory's argument checks run on their own: they come before its first
        use of Keras, so reaching `Blocked` means every check passed.
        """
        self._blocked = True
        try:
            yield
        finally:
            self._blocked = False

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if self._blocked:
            raise Blocked(f"{self._name}.{attribute}")
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"
