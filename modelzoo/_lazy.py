"""A module stand-in that imports the real module on first attribute access.

`keras = LazyModule("keras")` keeps code readable as plain Keras while `import modelzoo`,
`--help` and listing stay instant: TensorFlow loads only when a model is actually built.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import sys
from types import ModuleType

#: The modules `no_heavy_imports` keeps out: TensorFlow and what imports it.
HEAVY = ("tensorflow", "keras", "tensorflow_datasets", "tf_keras")


class Blocked(Exception):
    """Raised by a blocked LazyModule at its first use: the code before it has run."""


class LazyModule:
    """Proxy for a module that is imported the first time one of its attributes is read."""

    #: Set by `no_heavy_imports`: every LazyModule then raises `Blocked` at its first use.
    _all_blocked = False

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        if LazyModule._all_blocked:
            raise Blocked(f"{self._name}.{attribute}")
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)

    def __repr__(self) -> str:
        state = "loaded" if self._module is not None else "not loaded yet"
        return f"<lazy module {self._name!r} ({state})>"


class _HeavyImportBlocker(importlib.abc.MetaPathFinder):
    """Refuses a first import of a HEAVY module (and its submodules) with `Blocked`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in HEAVY:
            raise Blocked(f"import {fullname}")
        return None


@contextlib.contextmanager
def no_heavy_imports():
    """Within this block, TensorFlow and Keras cannot be used unless already imported.

    Every LazyModule raises `Blocked` at its first use, and a first `import keras` or `import
    tensorflow` (at any depth, in any module) raises `Blocked` too. Code that checks its
    arguments before it builds anything (a zoo factory) runs its checks and stops at `Blocked`.
    """
    blocker = _HeavyImportBlocker()
    LazyModule._all_blocked = True
    sys.meta_path.insert(0, blocker)
    try:
        yield
    finally:
        sys.meta_path.remove(blocker)
        LazyModule._all_blocked = False
