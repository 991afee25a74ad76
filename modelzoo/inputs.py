"""Turn a user's files into a model's input batch: images by MNIST's rules, feature rows from CSV or JSON.

What is refused (an `InputError`: one line naming the file and the fix, exit code 2):

* An image over `MAX_IMAGE_PIXELS` (70 megapixels: every common phone photo passes), told from
  the file's header before anything is decoded, so a small file claiming a huge size (a
  decompression bomb) costs nothing; downscale it. Also an animated or multi-page file (GIF,
  APNG, WebP, TIFF: save the frame you mean), except a phone's MPO JPEG, whose first frame is the
  photo; and a truncated, damaged or unreadable file.
* A row value the model cannot use: NaN or infinity, a number outside the input dtype's range
  (1e39 for float32, 300 or 2.5 for uint8), an empty cell or text. The message names the file,
  the row (a CSV line number, a JSON row from 1) and the column (from 1; for rows of more than
  one dimension, the element's 0-based index).

Image rules (for a model that takes `image uint8[H,W,1]`, e.g. every MNIST model here):

1. Any file Pillow reads (PNG, JPEG, BMP, GIF, TIFF, WebP, ...); EXIF orientation is applied and
   transparency is flattened onto white.
2. It becomes 8-bit grayscale (Pillow's "L": ITU-R 601-2 luma).
3. MNIST digits are white on black: when the 1-pixel border is mostly bright (mean > 127), the
   image is inverted.
4. An image already H x W is used as it is. Any other size loses its paper: the border's median
   level (grey paper, a shadow) is subtracted and the rest stretched to 0..255. It is then cut to
   the bounding box of its ink (pixels brighter than a quarter of the brightest), scaled to fit a
   20 x 20 box for 28 x 28 (H * 5/7 in general) keeping its aspect ratio, and placed on a black
   H x W canvas with its centre of mass at the centre: how MNIST itself was made.
5. A float input gets pixel / 255; an integer input keeps 0..255.

A model with 3 channels gets RGB resized to H x W. Rows: a CSV file (one example per line; a
first line with no number in it is a header) or JSON (a list of rows, or TF Serving's
{"instances": [...]}; numbers only, true/false count as 1/0).
"""

from __future__ import annotations

import csv
import json
import re
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from modelzoo.errors import ModelzooError
from modelzoo.registry import TensorSpec

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

#: The most pixels an input image may have (width x height), checked from the file's header before
#: anything is decoded. 70 megapixels takes every common phone photo (12 MP by default, 48 to 64 MP
#: in full-resolution modes) and refuses decompression bombs (a 20 KB PNG can claim 13000 x 13000
#: pixels, 3.3 GB of memory to fit a digit into 28 x 28). One at the limit takes about 7 bytes a
#: pixel to decode and fit (0.5 GB, 2 s); digits need far fewer pixels, so downscaling loses nothing.
MAX_IMAGE_PIXELS = 70_000_000

#: What Pillow's decoders raise for a damaged file: truncated data, broken chunks and checksums.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


class InputError(ModelzooError):
    """A file that cannot become the model's input (exit code 2)."""

    exit_code = 2


def load_images(paths: list[str], spec: TensorSpec) -> np.ndarray:
    """A batch of the model's image input from image files, by the rules in this module's docstring."""
    import numpy as np

    if not spec.is_image:
        raise InputError(
            f"the model takes {spec.example()}, not images; give rows with --input rows.csv or rows.json"
        )
    return np.stack([load_image(path, spec) for path in paths])


def load_image(path: str | Path, spec: TensorSpec) -> np.ndarray:
    """One image file as an array of the model's input shape and dtype.

    The size is checked from the file's header, before any pixel is decoded: an image over
    `MAX_IMAGE_PIXELS`, an animated or multi-page file, or one Pillow cannot decode (truncated,
    corrupt, not an image) is an `InputError`.
    """
    import warnings

    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    height, width, channels = spec.example_shape
    try:
        with warnings.catch_warnings():
            # Pillow warns from 89 megapixels and refuses from 179; our own, lower limit is checked below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: a folder, not an image file") from None
    except Image.DecompressionBombError as error:
        found = re.search(r"\((\d+) pixels\)", str(error))
        size = f"{_megapixels(int(found.group(1)))} megapixels" if found else "too many pixels"
        raise InputError(_too_large(path, size)) from None
    except PermissionError as error:
        raise InputError(f"{path}: cannot read it ({error.strerror})") from None
    except UnidentifiedImageError as error:
        raise InputError(
            f"{path}: not an image Pillow can read ({error}); the model takes {spec.example()}"
        ) from None
    except _DECODE_ERRORS as error:
        raise InputError(_damaged(path, "image", error)) from None
    with opened:
        columns, rows = opened.size
        if columns * rows > MAX_IMAGE_PIXELS:
            raise InputError(
                _too_large(
                    path, f"{columns}x{rows} pixels ({_megapixels(columns * rows)} megapixels)"
                )
            )
        # An MPO is a phone's JPEG with extra pictures (a depth map, a preview): its first frame is the photo.
        if getattr(opened, "is_animated", False) and opened.format != "MPO":
            raise InputError(
                f"{path}: an animated or multi-page image ({opened.format}, more than one frame); "
                "the model takes one picture: save the frame you mean as a PNG and give that"
            )
        try:
            opened.load()
            ImageOps.exif_transpose(opened, in_place=True)
            image = _flatten_transparency(opened)
            image = image.convert("RGB") if channels == 3 else image.convert("L")
        except _DECODE_ERRORS as error:
            raise InputError(_damaged(path, opened.format or "image", error)) from None
    if channels == 3:
        return _as_dtype(np.asarray(image.resize((width, height), Image.Resampling.LANCZOS)), spec)
    gray = np.asarray(image)
    del image  # the decoded picture: no need to hold it while the digit is fitted
    return grayscale_to_input(gray, spec)


def _too_large(path: str | Path, size: str) -> str:
    return (
        f"{path}: {size}, over the {_megapixels(MAX_IMAGE_PIXELS)}-megapixel limit for an input image; "
        "downscale it (e.g. to 1000 pixels on its longer side) and try again"
    )


def _megapixels(pixels: int) -> str:
    return f"{pixels / 1e6:,.0f}" if pixels >= 1e6 else f"{pixels / 1e6:.3g}"


def _damaged(path: str | Path, kind: str, error: Exception) -> str:
    return (
        f"{path}: a damaged or truncated {kind} file Pillow cannot decode ({error}); "
        "save it again or give another file"
    )


def _flatten_transparency(image: Image.Image) -> Image.Image:
    """The image composited onto white if it has transparency, else as it is."""
    from PIL import Image

    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    return image


def grayscale_to_input(gray: np.ndarray, spec: TensorSpec) -> np.ndarray:
    """A 2-D uint8 grayscale picture (any size, either polarity) as one example of a one-channel
    image input, by rules 3 to 5 of this module's docstring."""
    height, width, _ = spec.example_shape
    return _as_dtype(_mnist_style(gray, height, width)[..., None], spec)


def _as_dtype(pixels: np.ndarray, spec: TensorSpec) -> np.ndarray:
    import numpy as np

    return (
        (pixels / 255.0).astype(spec.dtype)
        if np.dtype(spec.dtype).kind == "f"
        else pixels.astype(spec.dtype)
    )


def _mnist_style(gray: np.ndarray, height: int, width: int) -> np.ndarray:
    """White-on-black, ink fitted into the central 5/7 box and centred by mass (MNIST's normalization)."""
    import numpy as np
    from PIL import Image

    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > 127:
        gray, border = 255 - gray, 255 - border
    if gray.shape == (height, width):
        return gray
    # The paper is background, whatever its grey: take its level (the border's median) away and
    # stretch what is left to 0..255, so grey paper becomes MNIST's black and faint ink full white.
    # Done on the 256 levels and looked up, so a large picture needs no float copy of itself.
    levels = np.clip(np.arange(256, dtype=np.float64) - np.median(border), 0, None)
    brightest = levels[gray.max()]
    if brightest > 0:
        levels = levels * (255 / brightest)
    gray = np.rint(levels).astype(np.uint8)[gray]
    ink = gray > gray.max() / 4
    if not ink.any():  # a blank image: nothing to centre
        return np.asarray(Image.fromarray(gray).resize((width, height), Image.Resampling.LANCZOS))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    digit = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = min(height * 5 / 7 / digit.shape[0], width * 5 / 7 / digit.shape[1])
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    digit = np.asarray(
        Image.fromarray(digit).resize(size, Image.Resampling.LANCZOS), dtype=np.float64
    )
    mass = digit.sum()
    centre_y = (digit.sum(axis=1) @ np.arange(digit.shape[0])) / mass
    centre_x = (digit.sum(axis=0) @ np.arange(digit.shape[1])) / mass
    top = int(np.clip(round((height - 1) / 2 - centre_y), 0, height - digit.shape[0]))
    left = int(np.clip(round((width - 1) / 2 - centre_x), 0, width - digit.shape[1]))
    canvas = np.zeros((height, width), dtype=np.float64)
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


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
