"""Feature rows from a CSV or JSON file as a model's input batch.

A CSV file has one example per line (a first line with no number in it is a header); JSON is a
list of rows or TF Serving's {"instances": [...]} (numbers only, true/false count as 1/0). A value
the model cannot use (NaN or infinity, out of the dtype's range, a fraction for an integer input,
an empty cell or text) is an InputError naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING

from modelzoo.inputs.spec import InputError
from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import numpy as np


def load_rows(path: str | Path, spec: TensorSpec) -> np.ndarray:
    """A batch of the model's input from a CSV (one example per line, optional header) or JSON file.

    Every value must be one the model can use (this module's docstring): a number, finite and in
    the input dtype's range, and whole for an integer dtype.
    """
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    header: list[str] = []
    is_json = path.suffix.lower() == ".json"
    if is_json:
        try:
            rows = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: not valid JSON ({error})") from None
        if isinstance(rows, dict) and "instances" in rows:
            rows = rows["instances"]
        rows = (
            [row.get(spec.name) if isinstance(row, dict) else row for row in rows]
            if isinstance(rows, list)
            else rows
        )
        where = [f"{path} row {i + 1}" for i in range(len(rows) if isinstance(rows, list) else 0)]
    else:
        rows, where, header = _read_csv(path)
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: no rows; give a list of examples, each {spec.example()}")
    numeric = np.dtype(spec.dtype).kind in "biuf"
    arrays = []
    for row, place in zip(rows, where):
        if numeric:
            array = (
                _numbers(row, place, spec, header) if is_json else _cells(row, place, spec, header)
            )
        else:
            try:
                array = np.asarray(row, dtype=spec.dtype)
            except (TypeError, ValueError, OverflowError) as error:
                raise InputError(f"{place}: {error}; the model takes {spec.example()}") from None
        if array.ndim != len(spec.example_shape) or any(
            d is not None and d != n for d, n in zip(spec.example_shape, array.shape)
        ):
            raise InputError(
                f"{place}: shape {list(array.shape)}, the model takes {spec.example()}"
            )
        if numeric:
            _check_range(array, row, place, spec, header)
        arrays.append(array.astype(spec.dtype))
    return np.stack(arrays)


def _read_csv(path: Path) -> tuple[list[list[str]], list[str], list[str]]:
    """(rows of cells, 'FILE:LINE' for each row, the header's column names or [])."""
    rows, where, header = [], [], []
    try:
        with path.open(newline="") as file:
            reader = csv.reader(file)
            for cells in reader:
                cells = [cell.strip() for cell in cells]
                if not any(cells):
                    continue
                if not rows and not header and not any(_is_number(cell) for cell in cells):
                    header = cells  # a first line with no number in it names the columns
                    continue
                rows.append(cells)
                where.append(f"{path}:{reader.line_num}")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a text file; give rows as CSV text or JSON") from None
    except csv.Error as error:
        raise InputError(f"{path}: not a CSV file ({error})") from None
    return rows, where, header


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _column(index: tuple[int, ...], header: list[str]) -> str:
    """'column 3 (age)' for a row's element (columns count from 1), or 'element [i, j, k]' in a nested row."""
    if len(index) != 1:
        return f"element {list(index)}"
    name = f" ({header[index[0]]})" if index[0] < len(header) and header[index[0]] else ""
    return f"column {index[0] + 1}{name}"


def _cell(row, index: tuple[int, ...]) -> str:
    """The value at `index` as the user wrote it: a CSV cell's text, a JSON value as JSON."""
    for i in index:
        row = row[i]
    return repr(row) if isinstance(row, str) else json.dumps(row)


def _cells(row: list[str], place: str, spec: TensorSpec, header: list[str]) -> np.ndarray:
    """A CSV row's cells as float64, or an InputError at its first empty cell or non-number."""
    import numpy as np

    for i, cell in enumerate(row):
        if not _is_number(cell):
            what = "is empty" if not cell else f"is {cell!r}, not a number"
            raise InputError(
                f"{place}: {_column((i,), header)} {what}; the model takes {spec.example()}"
            )
    return np.asarray([float(cell) for cell in row])


def _numbers(row, place: str, spec: TensorSpec, header: list[str]) -> np.ndarray:
    """A JSON row as float64, or an InputError at its first element that is not a number."""
    import numpy as np

    try:
        array = np.asarray(row)
    except ValueError:
        raise InputError(
            f"{place}: nested lists of different lengths; the model takes {spec.example()}"
        ) from None
    if array.dtype.kind not in "biuf":  # text, null, objects or integers too large for int64
        found = _first_non_number(row)
        if found is not None:
            index, what = found
            raise InputError(
                f"{place}: {_column(index, header)} is {_cell(row, index)}, {what}; the model takes {spec.example()}"
            )
    return np.asarray(row, dtype=np.float64)


def _first_non_number(value, index: tuple[int, ...] = ()) -> tuple[tuple[int, ...], str] | None:
    """(index, why) of the first element of a nested JSON list that is not a usable number."""
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _first_non_number(item, (*index, i))
            if found is not None:
                return found
        return None
    if not isinstance(value, (int, float)):  # bool is an int
        return index, "not a number"
    try:
        float(value)
    except OverflowError:
        return index, "too large for any float"
    return None


def _check_range(values: np.ndarray, row, place: str, spec: TensorSpec, header: list[str]) -> None:
    """An InputError at the first value the input dtype cannot hold: NaN, infinity, out of range,
    or a fraction where it takes whole numbers."""
    import numpy as np

    dtype = np.dtype(spec.dtype)
    checks = [(~np.isfinite(values), "not a finite number")]
    if dtype.kind == "f":
        info = np.finfo(dtype)
        checks.append(
            (np.abs(values) > info.max, f"outside {dtype}'s range (±{float(info.max):.3g})")
        )
    elif dtype.kind in "iu":
        bounds = np.iinfo(dtype)
        checks.append((np.mod(values, 1) != 0, f"not a whole number, which {dtype} needs"))
        checks.append(
            (
                (values < bounds.min) | (values > bounds.max),
                f"outside {dtype}'s range [{bounds.min}, {bounds.max}]",
            )
        )
    with np.errstate(invalid="ignore"):
        for bad, what in checks:
            if bad.any():
                index = tuple(int(i) for i in np.argwhere(bad)[0])
                raise InputError(
                    f"{place}: {_column(index, header)} is {_cell(row, index)}, {what}; "
                    f"the model takes {spec.example()}"
                )
