"""The exceptions modelzoo raises for problems a user can fix.

Each carries one line that says what is wrong, where, and how to fix it; the command-line
interfaces print that line and exit with `exit_code`, never a traceback.
"""

from __future__ import annotations


class ModelzooError(Exception):
    """A problem the user can fix; the CLI prints it as one line and exits non-zero."""

    exit_code = 1


class UsageError(ModelzooError, ValueError):
    """A wrong model name, argument or value (exit code 2, like a command-line usage error)."""

    exit_code = 2


class DataError(ModelzooError):
    """Data that cannot be had or trusted: a missing or corrupt mirror file, no network."""
