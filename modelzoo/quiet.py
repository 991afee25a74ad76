"""Keep TensorFlow's own logging out of command output, unless the user asks for it.

TensorFlow 2.21 writes its import-time C++ notices ("oneDNN custom operations are on",
"Could not find cuda drivers", absl's "All log messages before absl::InitializeLog() ..."
banner) before it reads TF_CPP_MIN_LOG_LEVEL, so no environment setting silences them (measured:
TF_CPP_MIN_LOG_LEVEL=3, ABSL_MIN_LOG_LEVEL, GLOG_minloglevel, GRPC_VERBOSITY all leave them).
`quiet_tensorflow` therefore has TensorFlow, whenever it is first imported, import with file
descriptor 2 pointing at a temporary file, and replays every line of it that is not a C++ log
line below the chosen level. After the
import TF_CPP_MIN_LOG_LEVEL does work, and the default, 3, keeps all but fatal C++ messages out
(e.g. "failed call to cuInit" on a machine without GPUs); TensorFlow's errors still reach the user
as Python exceptions. tfds's and TensorFlow's Python loggers are raised to ERROR and Keras,
TensorFlow and tfds Python warnings are ignored.

`--verbose` (every command that loads TensorFlow has it) keeps everything. A TF_CPP_MIN_LOG_LEVEL
the user set is kept and applied to the import-time lines too; 0 keeps them all.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import logging
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator

import click

DEFAULT_LEVEL = 3
SEVERITIES = "IWEF"  # TF_CPP_MIN_LOG_LEVEL 0 shows I(nfo) and up, 1 W(arning), 2 E(rror), 3 F(atal)
# An absl / TensorFlow C++ log line: "I0000 00:00:1795537281.220521    2117 port.cc:153] oneDNN ..."
CPP_LOG_LINE = re.compile(rb"^([IWEF])\d{4} [\d:.]+\s+\d+ [^\]\s]+:\d+\] ")
ABSL_BANNER = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
PYTHON_NOISE = ("absl", "tensorflow", "tensorflow_datasets", "keras", "h5py")

_verbose = False


def set_verbose(
    _ctx: click.Context | None = None, _param: click.Parameter | None = None, value: bool = True
) -> bool:
    """Keep TensorFlow's logging, or not (the `--verbose` option's callback, called by every invocation)."""
    global _verbose
    _verbose = bool(value)
    return value


def verbose_option(command):
    """`--verbose`: show TensorFlow's own log lines and warnings too."""
    return click.option(
        "--verbose",
        is_flag=True,
        expose_value=False,
        callback=set_verbose,
        help="Also show TensorFlow's own log lines and warnings.",
    )(command)


def min_level() -> int:
    """The C++ log level in force: the user's TF_CPP_MIN_LOG_LEVEL, else `DEFAULT_LEVEL`."""
    try:
        return max(0, min(3, int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", DEFAULT_LEVEL))))
    except ValueError:
        return DEFAULT_LEVEL


def is_noise(line: bytes, level: int) -> bool:
    """Whether `line` is a C++ log line below `level`, or absl's banner (when any level is set)."""
    if level > 0 and line.rstrip(b"\r\n") == ABSL_BANNER:
        return True
    match = CPP_LOG_LINE.match(line)
    return bool(match) and SEVERITIES.index(match.group(1).decode()) < level


def filtered_stderr(level: int):
    """Within this block, C++ log lines below `level` written to fd 2 are dropped; the rest is replayed."""
    return stderr_without(lambda line: is_noise(line, level))


@contextlib.contextmanager
def stderr_without(dropped: Callable[[bytes], bool]) -> Iterator[None]:
    """Within this block, the lines written to fd 2 (by Python or C++) for which `dropped` is true
    are dropped; the rest is replayed when the block ends."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured if not dropped(line))
            if kept:
                os.write(2, kept)


@contextlib.contextmanager
def converter_output() -> Iterator[None]:
    """Within this block, what converters print on fds 1 and 2 (tf2onnx's progress, the LiteRT
    converter's "fully_quantize: ..." line) is held back: shown on stderr with --verbose, dropped
    otherwise, so a command's output stays its own. Their failures raise, with their message."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = {fd: os.dup(fd) for fd in (1, 2)}
    with tempfile.TemporaryFile() as captured:
        for fd in saved:
            os.dup2(captured.fileno(), fd)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            for fd, copy in saved.items():
                os.dup2(copy, fd)
                os.close(copy)
            if _verbose:
                captured.seek(0)
                os.write(2, captured.read())


class _QuietLoader(importlib.abc.Loader):
    """Runs the real loader of the `tensorflow` package with fd 2 filtered, then steps aside."""

    def __init__(self, loader: importlib.abc.Loader, level: int) -> None:
        self.loader, self.level = loader, level

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader
        with filtered_stderr(self.level):
            self.loader.exec_module(module)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once, for `_QuietLoader` to import; TensorFlow still loads only when first used."""

    def __init__(self, level: int) -> None:
        self.level = level

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = next(
            (
                found
                for finder in sys.meta_path
                if hasattr(finder, "find_spec")
                for found in [finder.find_spec(name, path, target)]
                if found is not None
            ),
            None,
        )
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader, self.level)
        return spec


def quiet_tensorflow() -> None:
    """Quiet TensorFlow's logging (unless --verbose): its import, whenever it comes, is filtered.

    Call it before anything imports TensorFlow; it imports nothing itself. The user's
    TF_CPP_MIN_LOG_LEVEL wins.
    """
    if _verbose:
        return
    level = min_level()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", str(level))
    for name in ("absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)
    for module in PYTHON_NOISE:
        warnings.filterwarnings("ignore", module=rf"{module}(\.|$)")
    if "tensorflow" not in sys.modules and not any(
        isinstance(f, _QuietImport) for f in sys.meta_path
    ):
        sys.meta_path.insert(0, _QuietImport(level))
