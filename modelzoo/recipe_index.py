"""Where recipes are: the built-in ones (recipes/*.toml), then $MODELZOO_RECIPES_PATH; finding
and reading their files, and which model each names.

A low-level module (no checks, no registry): the registry asks it which recipes train a model,
and `modelzoo.recipe_file` builds on it to load and check recipes.
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from modelzoo.errors import RecipeError, Source
from modelzoo.words import did_you_mean


def builtin_names() -> list[str]:
    """Names of the recipes shipped in the modelzoo.recipes package, sorted."""
    folder = resources.files("modelzoo.recipes")
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


#: Folders (separated by os.pathsep) searched for NAME.toml after the built-in recipes.
RECIPES_PATH_ENV = "MODELZOO_RECIPES_PATH"


def recipe_path() -> tuple[str, ...]:
    """The folders of $MODELZOO_RECIPES_PATH, in order (empty entries skipped)."""
    return tuple(d for d in os.environ.get(RECIPES_PATH_ENV, "").split(os.pathsep) if d)


def recipe_names() -> list[str]:
    """Every recipe a name finds: the built-in ones, then those on the recipe path they do not
    shadow (built-ins first, each group sorted)."""
    names = builtin_names()
    extra = {
        p.stem
        for folder in recipe_path()
        if Path(folder).is_dir()
        for p in Path(folder).glob("*.toml")
    }
    return names + sorted(extra - set(names))


def model_of(name_or_path: str) -> str | None:
    """The model a recipe file's [model] names (read, not checked), or None if it names none."""
    try:
        document = tomllib.loads(read_text(find(name_or_path)))
    except (RecipeError, tomllib.TOMLDecodeError):
        return None
    model = document.get("model", {})
    return model.get("name") if isinstance(model, dict) else None


def find(name_or_path: str) -> Path:
    """The file of a recipe name (built-in, then the recipe path), or a user's .toml path."""
    if name_or_path.endswith(".toml") or "/" in name_or_path:
        path = Path(name_or_path).expanduser()
        if path.is_dir():
            raise RecipeError(f"recipe file {path} is a folder; give the path of a .toml file")
        if not path.exists():
            raise RecipeError(f"recipe file {path} does not exist")
        return path
    if name_or_path not in builtin_names():
        for folder in recipe_path():
            if (Path(folder) / f"{name_or_path}.toml").is_file():
                return Path(folder) / f"{name_or_path}.toml"
        raise RecipeError(
            f"unknown recipe {name_or_path!r}{did_you_mean(name_or_path, builtin_names())}; "
            f"built-in recipes: {', '.join(builtin_names())} (or give a path to a .toml file)"
        )
    return Path(str(resources.files("modelzoo.recipes").joinpath(f"{name_or_path}.toml")))


def read_text(path: Path) -> str:
    """A recipe file's text, or a RecipeError saying why it cannot be read (unreadable, not UTF-8)."""
    try:
        content = path.read_bytes()
    except OSError as error:
        raise RecipeError(f"recipe file {path} cannot be read: {error.strerror or error}") from None
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise RecipeError(
            f"not UTF-8 text (byte {content[error.start]:#04x} at offset {error.start}); "
            "save the recipe as UTF-8",
            source=Source(path, line),
        ) from None
