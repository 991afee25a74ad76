"""Turn a user's files into a model's input batch: images by MNIST's rules, feature rows from CSV or JSON.

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

A model with 3 channels gets RGB resized to H x W. Rows: a CSV file (one example per line, an
optional header line) or JSON (a list of rows, or TF Serving's {"instances": [...]}).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modelzoo.errors import ModelzooError

if TYPE_CHECKING:
    import numpy as np


class InputError(ModelzooError):
    """A file that cannot become the model's input (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class InputSpec:
    """One example of a signature input: key, dtype (NumPy name) and shape without the batch dimension."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def __str__(self) -> str:
        return f"{self.name} {self.dtype}[{','.join('?' if d is None else str(d) for d in self.shape)}]"

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3 and self.shape[-1] in (1, 3) and None not in self.shape


def load_images(paths: list[str], spec: InputSpec) -> np.ndarray:
    """A batch of the model's image input from image files, by the rules in this module's docstring."""
    import numpy as np

    if not spec.is_image:
        raise InputError(f"the model takes {spec}, not images; give rows with --input rows.csv or rows.json")
    return np.stack([load_image(path, spec) for path in paths])


def load_image(path: str | Path, spec: InputSpec) -> np.ndarray:
    """One image file as an array of the model's input shape and dtype."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    height, width, channels = spec.shape
    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened)
            image.load()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (UnidentifiedImageError, OSError) as error:
        raise InputError(f"{path}: not an image Pillow can read ({error}); the model takes {spec}") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
    if channels == 3:
        pixels = np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
        return _as_dtype(pixels, spec)
    return grayscale_to_input(np.asarray(image.convert("L")), spec)


def grayscale_to_input(gray: np.ndarray, spec: InputSpec) -> np.ndarray:
    """A 2-D uint8 grayscale picture (any size, either polarity) as one example of a one-channel
    image input, by rules 3 to 5 of this module's docstring."""
    height, width, _ = spec.shape
    return _as_dtype(_mnist_style(gray, height, width)[..., None], spec)


def _as_dtype(pixels: np.ndarray, spec: InputSpec) -> np.ndarray:
    import numpy as np

    return (pixels / 255.0).astype(spec.dtype) if np.dtype(spec.dtype).kind == "f" else pixels.astype(spec.dtype)


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
    gray = np.clip(gray.astype(np.float64) - np.median(border), 0, None)
    if gray.max() > 0:
        gray = gray * (255 / gray.max())
    gray = np.rint(gray).astype(np.uint8)
    ink = gray > gray.max() / 4
    if not ink.any():  # a blank image: nothing to centre
        return np.asarray(Image.fromarray(gray).resize((width, height), Image.Resampling.LANCZOS))
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    digit = gray[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    scale = min(height * 5 / 7 / digit.shape[0], width * 5 / 7 / digit.shape[1])
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    digit = np.asarray(Image.fromarray(digit).resize(size, Image.Resampling.LANCZOS), dtype=np.float64)
    mass = digit.sum()
    centre_y = (digit.sum(axis=1) @ np.arange(digit.shape[0])) / mass
    centre_x = (digit.sum(axis=0) @ np.arange(digit.shape[1])) / mass
    top = int(np.clip(round((height - 1) / 2 - centre_y), 0, height - digit.shape[0]))
    left = int(np.clip(round((width - 1) / 2 - centre_x), 0, width - digit.shape[1]))
    canvas = np.zeros((height, width), dtype=np.float64)
    canvas[top : top + digit.shape[0], left : left + digit.shape[1]] = digit
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)


def load_rows(path: str | Path, spec: InputSpec) -> np.ndarray:
    """A batch of the model's input from a CSV (one example per line, optional header) or JSON file."""
    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as error:
            raise InputError(f"{path}: not valid JSON ({error})") from None
        if isinstance(rows, dict) and "instances" in rows:
            rows = rows["instances"]
        rows = [row.get(spec.name) if isinstance(row, dict) else row for row in rows] if isinstance(rows, list) else rows
        where = [f"{path} row {i + 1}" for i in range(len(rows) if isinstance(rows, list) else 0)]
    else:
        rows, where = _read_csv(path)
    if not isinstance(rows, list) or not rows:
        raise InputError(f"{path}: no rows; give a list of examples, each {spec}")
    arrays = []
    for row, place in zip(rows, where):
        try:
            array = np.asarray(row, dtype=spec.dtype)
        except (TypeError, ValueError) as error:
            raise InputError(f"{place}: {error}; the model takes {spec}") from None
        if array.ndim != len(spec.shape) or any(d is not None and d != n for d, n in zip(spec.shape, array.shape)):
            raise InputError(f"{place}: shape {list(array.shape)}, the model takes {spec}")
        arrays.append(array)
    return np.stack(arrays)


def _read_csv(path: Path) -> tuple[list[list[float]], list[str]]:
    rows, where = [], []
    with path.open(newline="") as file:
        for number, cells in enumerate(csv.reader(file), start=1):
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            try:
                rows.append([float(cell) for cell in cells])
            except ValueError:
                if not rows and number == 1:  # a header line
                    continue
                raise InputError(f"{path}:{number}: not a number in {cells}") from None
            where.append(f"{path}:{number}")
    return rows, where
