"""The exceptions modelzoo raises for problems a user can fix, and where their one line is made.

Each carries one line that says what is wrong, where, and how to fix it; the command-line
interfaces print that line and exit with `exit_code`, never a traceback. An error about one
value also carries, as attributes, the field it is about and where the value came from, so code
that reports it in another context (a recipe, a sweep's --grid) reads those and never the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class ModelzooError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits non-zero."""

    exit_code = 1


class UsageError(ModelzooError, ValueError):
    """A wrong model name, argument or value (exit code 2, like a command-line usage error).

    `field` names the argument or recipe field the value was given for ("hidden_units",
    "train.learning_rate"), or is None; `problem` is what is wrong with it, without where it
    was given (the message itself unless a caller put a context such as the model's name first).
    """

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None, problem: str | None = None):
        super().__init__(message)
        self.field = field
        self.problem = message if problem is None else problem


class DataError(ModelzooError):
    """Data that cannot be had or trusted: a missing or corrupt mirror file, no network."""


@dataclass(frozen=True)
class Source:
    """Where a recipe value came from, as its error names it.

    Source(file, line)               "path/to/file.toml:12: FIELD: ..."   a value in the file
    Source(file)                     "path/to/file.toml: FIELD: ..."      (its line not found)
    Source(file, option="--set")     "file.toml, --set: FIELD: ..."       a --set value
    Source(option="--set")           "--set FIELD: ..."                   a --set whose name is wrong
    Source(option="--learning-rate") "--learning-rate: ..."               an option that stands for
                                                                          the field
    """

    file: Path | None = None
    line: int | None = None
    option: str | None = None

    @property
    def names_field(self) -> bool:
        """Whether the source itself names the field (an option), so the message does not repeat it."""
        return self.option is not None and (self.option != "--set" or self.file is None)

    def where(self, field: str | None) -> str:
        """The source as the message's first part."""
        if self.option == "--set":
            return f"{Path(self.file).name}, --set" if self.file else f"--set {field}"
        if self.option:
            return self.option
        return f"{self.file}:{self.line}" if self.line else str(self.file)


def render(problem: str, field: str | None = None, source: Source | None = None) -> str:
    """The one line for a problem with a value: 'SOURCE: FIELD: PROBLEM', each part where known."""
    parts = [source.where(field)] if source else []
    if field and not (source and source.names_field):
        parts.append(field)
    return ": ".join([*parts, problem])


class RecipeError(UsageError):
    """A recipe that cannot run as written (exit code 2): `problem` with `field` from `source`."""

    def __init__(
        self, problem: str, *, field: str | None = None, source: Source | None = None
    ) -> None:
        super().__init__(render(problem, field, source), field=field, problem=problem)
        self.source = source

    @property
    def detail(self) -> str:
        """The message without where the value came from: 'FIELD: PROBLEM' (or PROBLEM alone)."""
        named = self.source is not None and self.source.names_field
        return render(self.problem, None if named else self.field)
