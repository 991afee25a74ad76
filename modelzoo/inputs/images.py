"""Image files as a model's image input, by MNIST's rules (`modelzoo.inputs`' docstring, 1 to 5).

Refused with an InputError: an image over `MAX_IMAGE_PIXELS`, told from the file's header before
anything is decoded; an animated or multi-page file (except a phone's MPO JPEG); a truncated,
damaged or unreadable file.
"""

from __future__ import annotations

import re
import struct
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

from modelzoo.inputs.spec import InputError
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


def load_images(paths: list[str], spec: TensorSpec) -> np.ndarray:
    """A batch of the model's image input from image files, by the rules in `modelzoo.inputs`' docstring."""
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
    image input, by rules 3 to 5 of `modelzoo.inputs`' docstring."""
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
