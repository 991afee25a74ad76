"""Export formats: what `export.publish` writes for a version, and how each is checked.

An exporter is a name (as `--format` says it), a `write(model, folder, context)` that writes its
files, and a `check(folder, context)` that raises a ModelzooError when they are not right and
otherwise returns what it measured (recorded in the model card under "formats"). TF Serving's
SavedModel (`modelzoo.saved_model`) writes into the version folder itself and is always
published; every other format writes one file into the version's formats folder beside it
(`storage.formats_folder`), never into TF Serving's folder. `publish` writes the chosen formats
in registration order (the SavedModel first: LiteRT converts it), checks them all, and renames
the folders into place only when every check passed.

Adding a format: a module with its `write` and `check`, and one `register_exporter` line below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelzoo import litert_export, onnx_export, saved_model, storage
from modelzoo.errors import UsageError
from modelzoo.export_context import ExportContext

#: The format every publish writes: TF Serving's, which holds the version and the model card.
SAVED_MODEL = "savedmodel"


@dataclass(frozen=True)
class Exporter:
    """One export format: its name, its file (None: the version folder itself), how it writes and checks."""

    name: str
    write: Callable[[Any, Path, ExportContext], None]
    check: Callable[[Path, ExportContext], dict[str, Any] | None]
    file: str | None = None
    needs: tuple[str, ...] = ()  # ExportContext fields it cannot do without ("calibration", ...)
    tasks: tuple[str, ...] | None = None  # the model tasks it can judge (None: every task)


#: The registered exporters by name, in the order they run.
EXPORTERS: dict[str, Exporter] = {}


def register_exporter(exporter: Exporter) -> Exporter:
    """Add an export format that `publish` can be asked for; its name must be new."""
    if exporter.name in EXPORTERS:
        raise ValueError(f"an exporter named {exporter.name!r} is already registered")
    EXPORTERS[exporter.name] = exporter
    return exporter


def unregister_exporter(name: str) -> None:
    """Remove an export format (tests registering a throwaway one)."""
    del EXPORTERS[name]


def parse_formats(names: str | Iterable[str], where: str = "--format") -> tuple[str, ...]:
    """The formats to publish, in registration order, the SavedModel always among them.

    `names` is "savedmodel,onnx" or a list; an unknown name is one line naming the known ones.
    """
    from modelzoo.words import did_you_mean

    wanted = [n.strip() for n in (names.split(",") if isinstance(names, str) else names)]
    for name in wanted:
        if name not in EXPORTERS:
            raise UsageError(
                f"{where}: no export format {name!r}{did_you_mean(name, EXPORTERS)}; "
                f"choose from {', '.join(EXPORTERS)}"
            )
    return tuple(n for n in EXPORTERS if n in wanted or n == SAVED_MODEL)


def supported_formats(formats: tuple[str, ...], model_name: str) -> tuple[str, ...]:
    """`formats`, or UsageError naming one that cannot judge a model of this zoo model's task."""
    from modelzoo.registry import model_card

    task = model_card(model_name).task
    for name in formats:
        tasks = EXPORTERS[name].tasks
        if tasks is not None and task not in tasks:
            raise UsageError(
                f"--format: {name} cannot be checked for {model_name}, a {task} model (it is "
                f"judged by accuracy, for {' and '.join(tasks)} models)"
            )
    return formats


def data_for_formats(formats: Iterable[str], splits) -> dict[str, Any]:
    """What the chosen formats need besides the model, from a data set's splits
    (`modelzoo.data.DataSplits`): for int8, training inputs to calibrate with (never test ones)
    and the whole test split to judge it by; `publish`'s keyword arguments."""
    from modelzoo.data import take_arrays
    from modelzoo.export_context import CALIBRATION_EXAMPLES

    needs = {need for name in formats for need in EXPORTERS[name].needs}
    data: dict[str, Any] = {}
    if "calibration" in needs:
        data["calibration"], _ = take_arrays(splits.for_evaluation("train"), CALIBRATION_EXAMPLES)
    if "evaluation" in needs:
        data["evaluation"] = take_arrays(splits.test, splits.info.sizes["test"])
    return data


def folder_for(exporter: Exporter, staging: Path) -> Path:
    """Where `exporter` writes for the staged version folder `staging`."""
    return staging if exporter.file is None else storage.formats_folder(staging)


def write_all(model: Any, staging: Path, formats: Iterable[str], context: ExportContext) -> None:
    """Run the chosen exporters' `write` for the staged version folder, in registration order.

    A format that needs data the context lacks is refused before anything is written.
    """
    for name in formats:
        missing = [need for need in EXPORTERS[name].needs if getattr(context, need) is None]
        if missing:
            raise UsageError(
                f"--format {name} needs {' and '.join(missing)} data, which this export was not given"
            )
    for name in formats:
        exporter = EXPORTERS[name]
        folder = folder_for(exporter, staging)
        folder.mkdir(parents=True, exist_ok=True)
        exporter.write(model, folder, context)
        if exporter.file is None:
            context.saved_model = folder


def check_all(
    staging: Path, formats: Iterable[str], context: ExportContext | None = None
) -> dict[str, Any]:
    """Run the chosen exporters' checks; {format: what it measured}. The first failure raises."""
    records: dict[str, Any] = {}
    for name in formats:
        exporter = EXPORTERS[name]
        folder = folder_for(exporter, staging)
        record = exporter.check(folder, context) or {}
        if exporter.file is not None:
            record = {
                "file": exporter.file,
                "bytes": (folder / exporter.file).stat().st_size,
                **record,
            }
        records[name] = record
    return records


def describe_formats(version_folder: Path) -> list[str]:
    """A line per format beside a published version: its file, size and how it was checked."""
    card = storage.read_card(version_folder) or {}
    lines = []
    for name, record in card.get("formats", {}).items():
        if "file" not in record:
            continue
        path = storage.formats_folder(version_folder) / record["file"]
        if not path.is_file():  # e.g. a publish killed between its two renames
            lines.append(f"{name}: {path} is missing (the card lists it); publish again to make it")
            continue
        checked = [f"{record['bytes'] / 1e6:.2f} MB"]
        if "accuracy" in record:
            checked.append(
                f"test accuracy {record['accuracy']:.2%} against the float model's "
                f"{record['float_accuracy']:.2%}"
            )
        elif "max_abs_diff" in record:
            checked.append(f"matches Keras within {record['max_abs_diff']:.1g}")
        runtime = f" in {record['runtime']}" if "runtime" in record else ""
        lines.append(f"{name}: {path} ({', '.join(checked)}{runtime})")
    return lines


def formats_present(version_folder: Path) -> list[str]:
    """The formats a published version has: the SavedModel and each format file beside it."""
    extra = storage.formats_folder(version_folder)
    return [
        e.name
        for e in EXPORTERS.values()
        if (
            storage.has_saved_model(version_folder)
            if e.file is None
            else (extra / e.file).is_file()
        )
    ]


register_exporter(Exporter(SAVED_MODEL, saved_model.write, saved_model.check))
register_exporter(Exporter("onnx", onnx_export.write, onnx_export.check, onnx_export.FILE))
register_exporter(
    Exporter("litert", litert_export.write_float, litert_export.check_float, litert_export.FILE)
)
register_exporter(
    Exporter(
        "litert-int8",
        litert_export.write_int8,
        litert_export.check_int8,
        litert_export.INT8_FILE,
        needs=("calibration", "evaluation"),
        tasks=litert_export.INT8_TASKS,
    )
)
