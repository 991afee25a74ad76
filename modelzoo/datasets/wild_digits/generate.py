"""Generate wild_digits.npz and manifest.json: printed and pen-drawn digits as users bring them.

    python -m modelzoo.datasets.wild_digits.generate                # rewrite both files
    python -m modelzoo.datasets.wild_digits.generate --check        # exit 1 if either would change
    python -m modelzoo.datasets.wild_digits.generate --sheets /tmp  # also write PNG contact sheets

numpy and Pillow only (matplotlib just to locate its bundled fonts). Every draw is seeded, the
font list is fixed below and the zip is written with sorted members and fixed timestamps, so a
rerun with the same fonts, numpy and Pillow gives the same bytes. Fonts: see APT_PACKAGES.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NoReturn

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

HERE = Path(__file__).resolve().parent
DATA_FILE, MANIFEST_FILE = HERE / "wild_digits.npz", HERE / "manifest.json"
COMMAND = "python -m modelzoo.datasets.wild_digits.generate"
SIZE, SCALE = 64, 4  # output side in pixels; everything is drawn at SCALE x and downsampled
PER_KIND = 50  # images of each digit per split and kind (printed, drawn)
SEEDS = {"dev": 1729, "test": 4104}
HEIGHT = (0.30, 0.85)  # ink height as a fraction of SIZE
PAPER, INK = (180, 255), (0, 90)  # grey levels
APT_PACKAGES = (
    "fonts-dejavu-core",
    "fonts-dejavu-extra",
    "fonts-urw-base35",
    "fonts-liberation",
    "fonts-freefont-ttf",
    "fonts-comic-neue",
    "fonts-humor-sans",
    "fonts-dkg-handwriting",
    "fonts-rufscript",
    "fonts-sjfonts",
)

# Font families (one design each, metric clones together) -> split, folder, files. A family goes
# to one split only, so test measures type designs that dev never saw. Left out: symbol, math and
# size-variant fonts (cmex10, cmsy10, STIX NonUni and Siz*, DejaVuMathTeXGyre, LastResortHE,
# StandardSymbolsPS, D050000L), matplotlib's copies of DejaVu, and fonts with digits a reader may
# take for something else: femkeklaver (outlines), Breip (0 like U, 6 like L), Delphine (1 like ^),
# dkgIt and dkgBI (slanted so far that a further slant lays 7 and 8 down).
DEJAVU, URW, SYS, MPL = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/opentype/urw-base35",
    "/usr/share/fonts",
    "matplotlib:fonts/ttf",
)


def _names(pattern: str, variants: str) -> tuple[str, ...]:
    """File names from a pattern and space-separated variants ("_" for none)."""
    return tuple(pattern.format(v.strip("_")) for v in variants.split())


FAMILIES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "helvetica": (
        "dev",
        SYS,
        _names(
            "opentype/urw-base35/NimbusSans{}.otf",
            "-Regular -Bold -Italic -BoldItalic "
            "Narrow-Regular Narrow-Bold Narrow-Oblique Narrow-BoldOblique",
        )
        + _names("truetype/freefont/FreeSans{}.ttf", "_ Bold Oblique BoldOblique")
        + _names(
            "truetype/liberation/LiberationSans{}.ttf",
            "-Regular -Bold -Italic -BoldItalic "
            "Narrow-Regular Narrow-Bold Narrow-Italic Narrow-BoldItalic",
        ),
    ),
    "courier": (
        "dev",
        SYS,
        _names("opentype/urw-base35/NimbusMonoPS-{}.otf", "Regular Bold Italic BoldItalic")
        + _names("truetype/freefont/FreeMono{}.ttf", "_ Bold Oblique BoldOblique")
        + _names("truetype/liberation/LiberationMono-{}.ttf", "Regular Bold Italic BoldItalic"),
    ),
    "dejavu-serif": (
        "dev",
        DEJAVU,
        _names(
            "DejaVuSerif{}.ttf",
            "_ -Bold -Italic -BoldItalic Condensed "
            "Condensed-Bold Condensed-Italic Condensed-BoldItalic",
        ),
    ),
    "century": ("dev", URW, _names("C059-{}.otf", "Roman Bold Italic BdIta")),
    "comic": (
        "dev",
        SYS,
        _names(
            "opentype/comic-neue/ComicNeue-{}.otf",
            "Light Regular Bold LightItalic Italic BoldItalic",
        ),
    ),
    "dkg": ("dev", SYS, _names("truetype/fifthhorseman/dkg{}.ttf", "_ Bd")),
    "rufscript": ("dev", SYS, ("truetype/rufscript/Rufscript010.ttf",)),
    "dejavu-sans": (
        "test",
        DEJAVU,
        _names(
            "DejaVuSans{}.ttf",
            "_ -Bold -Oblique -BoldOblique -ExtraLight "
            "Condensed Condensed-Bold Condensed-Oblique Condensed-BoldOblique",
        ),
    ),
    "dejavu-mono": (
        "test",
        DEJAVU,
        _names("DejaVuSansMono{}.ttf", "_ -Bold -Oblique -BoldOblique"),
    ),
    "times": (
        "test",
        SYS,
        _names("opentype/urw-base35/NimbusRoman-{}.otf", "Regular Bold Italic BoldItalic")
        + _names("truetype/freefont/FreeSerif{}.ttf", "_ Bold Italic BoldItalic")
        + _names("truetype/liberation/LiberationSerif-{}.ttf", "Regular Bold Italic BoldItalic"),
    ),
    "stix": ("test", MPL, _names("STIXGeneral{}.ttf", "_ Bol Italic BolIta")),
    "computer-modern": ("test", MPL, _names("cm{}10.ttf", "r b ti ss tt mi")),
    "palatino": ("test", URW, _names("P052-{}.otf", "Roman Bold Italic BoldItalic")),
    "bookman": ("test", URW, _names("URWBookman-{}.otf", "Light Demi LightItalic DemiItalic")),
    "avantgarde": ("test", URW, _names("URWGothic-{}.otf", "Book Demi BookOblique DemiOblique")),
    "chancery": ("test", URW, ("Z003-MediumItalic.otf",)),
    "humor": ("test", SYS, ("truetype/humor-sans/Humor-Sans.ttf",)),
    "stevehand": ("test", SYS, ("truetype/sjfonts/SteveHand.ttf",)),
}


@dataclass(frozen=True)
class Font:
    path: str  # as the manifest records it; "matplotlib:..." is inside matplotlib's data folder
    family: str
    split: str

    @property
    def file(self) -> Path:
        if self.path.startswith("matplotlib:"):
            import matplotlib

            return Path(matplotlib.get_data_path(), self.path.removeprefix("matplotlib:"))
        return Path(self.path)


def _refuse(message: str) -> NoReturn:
    """Stop with a one-line message and exit status 2."""
    print(f"wild_digits: {message}", file=sys.stderr)
    sys.exit(2)


def fonts() -> list[Font]:
    """Every font, sorted by path; exits (2) with a one-line message if one is missing or not ten digits."""
    found = sorted(
        (
            Font(f"{folder}/{name}", family, split)
            for family, (split, folder, names) in FAMILIES.items()
            for name in names
        ),
        key=lambda f: f.path,
    )
    for font in found:
        if not font.file.is_file():
            _refuse(f"missing font {font.file} (apt-get install -y {' '.join(APT_PACKAGES)})")
        glyphs(font)
    return found


@cache
def glyphs(font: Font) -> tuple[Image.Image, ...]:
    """The ten digits of a font as tight white-on-black masks, checked to be non-empty and all different."""
    face = ImageFont.truetype(str(font.file), 160)
    masks = []
    for digit in "0123456789":
        left, top, right, bottom = face.getbbox(digit)
        mask = Image.new("L", (right - left + 8, bottom - top + 8), 0)
        ImageDraw.Draw(mask).text((4 - left, 4 - top), digit, font=face, fill=255)
        masks.append(mask.crop(mask.getbbox()) if mask.getbbox() else mask)
    arrays = [np.asarray(m) for m in masks]
    if any(a.max() == 0 for a in arrays) or len({(a.shape, a.tobytes()) for a in arrays}) < 10:
        _refuse(f"{font.path} does not draw ten different digits")
    return tuple(masks)


# Drawn digits: strokes in a box about 0.7 wide and 1 tall (y down). Each style is a function of
# `u(low, high)`, a uniform draw, so every image moves the control points differently.
U = Callable[[float, float], float]
Point = tuple[float, float]


def line(*points: Point) -> np.ndarray:
    """A polyline, densely sampled (so the warp bends it)."""
    return np.concatenate(
        [np.linspace(a, b, 12, endpoint=False) for a, b in zip(points, points[1:])]
        + [np.array(points[-1:], dtype=float)]
    )


def bez(p0: Point, p1: Point, p2: Point, p3: Point) -> np.ndarray:
    """A cubic Bezier curve."""
    t = np.linspace(0, 1, 32)[:, None]
    return (
        (1 - t) ** 3 * p0
        + 3 * (1 - t) ** 2 * t * p1
        + 3 * (1 - t) * t**2 * p2
        + t**3 * np.array(p3)
    )


def arc(cx: float, cy: float, rx: float, ry: float, start: float, stop: float) -> np.ndarray:
    """An ellipse arc between angles in degrees: 0 right, 90 down; decreasing runs anticlockwise."""
    a = np.radians(np.linspace(start, stop, max(8, int(abs(stop - start) / 5))))
    return np.stack([cx + rx * np.cos(a), cy + ry * np.sin(a)], axis=1)


def path(*parts: np.ndarray) -> np.ndarray:
    """Pieces joined into one stroke."""
    return np.concatenate(parts)


def _figure_eight(u: U) -> list[np.ndarray]:
    """An 8 in one stroke, crossing itself in the middle; the upper loop is the smaller one."""
    t = np.linspace(0, 2 * np.pi * u(1.0, 1.05), 120)
    top = u(0.38, 0.48)
    y = np.where(np.cos(t) > 0, top - top * np.cos(t), top - (1 - top) * np.cos(t))
    x = 0.35 + np.where(np.cos(t) > 0, u(0.18, 0.22), u(0.22, 0.28)) * np.sin(2 * t) * 1.2
    return [np.stack([x, y], axis=1)]


STYLES: dict[int, dict[str, Callable[[U], list[np.ndarray]]]] = {
    0: {
        "oval": lambda u: [arc(0.35, 0.5, u(0.22, 0.35), 0.5, -90 + u(-25, 15), -90 - u(355, 390))],
        "egg": lambda u: [
            path(
                bez((0.38, 0), (u(0, 0.1), 0), (0, 1), (0.35, 1)),
                bez((0.35, 1), (0.72, 1), (u(0.6, 0.7), 0), (u(0.3, 0.45), u(0, 0.06))),
            )
        ],
    },
    1: {
        "bar": lambda u: [line((0.3, 0), (0.3 + u(-0.05, 0.05), 1))],
        "flag": lambda u: [line((u(0.05, 0.15), u(0.15, 0.3)), (0.3, 0), (0.3, 1))],
        "flag-base": lambda u: [
            line((u(0.05, 0.15), u(0.15, 0.3)), (0.3, 0), (0.3, 1)),
            line((u(0.05, 0.15), 1), (u(0.45, 0.55), 1)),
        ],
    },
    2: {
        "plain": lambda u: [
            path(
                bez((0.03, u(0.15, 0.3)), (0.08, -0.04), (0.64, -0.06), (0.6, 0.3)),
                bez((0.6, 0.3), (u(0.55, 0.6), 0.55), (0.2, 0.78), (0.02, 1)),
                line((0.02, 1), (u(0.6, 0.75), u(0.96, 1.02))),
            )
        ],
        "loop": lambda u: [
            path(
                bez((0.03, u(0.15, 0.3)), (0.08, -0.04), (0.64, -0.06), (0.6, 0.3)),
                bez((0.6, 0.3), (0.58, 0.55), (0.35, 0.7), (0.14, 0.86)),
                bez((0.14, 0.86), (-0.15, 1.12), (u(-0.1, 0.0), 0.68), (0.3, 0.98)),
                line((0.3, 0.98), (u(0.65, 0.75), u(0.96, 1.02))),
            )
        ],
        "angular": lambda u: [
            path(
                bez((0.03, u(0.15, 0.3)), (0.1, -0.03), (0.62, -0.05), (0.6, 0.28)),
                line((0.6, 0.28), (0.02, 1), (u(0.6, 0.75), u(0.96, 1.02))),
            )
        ],
    },
    3: {
        "round": lambda u: [
            path(
                bez((0.03, u(0.08, 0.2)), (0.3, -0.08), (0.75, 0.02), (0.55, 0.3)),
                bez((0.55, 0.3), (0.48, 0.42), (0.35, 0.46), (0.22, 0.47)),
                bez((0.22, 0.47), (u(0.78, 0.86), 0.43), (0.82, 1.0), (0.35, 0.99)),
                bez((0.35, 0.99), (0.2, 0.99), (0.08, 0.96), (0.0, u(0.8, 0.9))),
            )
        ],
        "flat-top": lambda u: [
            path(
                line((0.05, 0), (0.62, 0), (u(0.2, 0.3), 0.4)),
                bez((0.25, 0.4), (0.85, 0.35), (0.8, 1.0), (0.32, 0.99)),
                bez((0.32, 0.99), (0.2, 0.99), (0.08, 0.96), (0.0, u(0.8, 0.9))),
            )
        ],
    },
    4: {
        "open": lambda u: [
            line((u(0.1, 0.2), 0), (0.04, 0.62), (0.72, u(0.58, 0.66))),
            line((0.52, u(0.05, 0.2)), (0.52 + u(-0.04, 0.02), 1)),
        ],
        "closed": lambda u: [
            line((0.52, 0), (0, 0.66), (u(0.68, 0.76), 0.66)),
            line((0.52, 0), (0.52, 1)),
        ],
    },
    5: {
        "one-stroke": lambda u: [
            path(
                line((u(0.55, 0.65), 0), (0.12, 0), (0.08, 0.45)),
                bez((0.08, 0.45), (0.45, 0.28), (0.8, 0.5), (0.62, 0.8)),
                bez((0.62, 0.8), (0.5, 1.0), (0.15, 1.02), (0.0, u(0.82, 0.92))),
            )
        ],
        "two-stroke": lambda u: [
            path(
                line((0.12, 0.02), (0.08, 0.42)),
                bez((0.08, 0.42), (0.7, u(0.22, 0.3)), (0.8, 1.0), (0.3, 0.98)),
                bez((0.3, 0.98), (0.2, 0.98), (0.08, 0.95), (0.0, u(0.8, 0.9))),
            ),
            line((0.12, 0.02), (u(0.55, 0.7), u(-0.03, 0.03))),
        ],
    },
    6: {
        "curved": lambda u: [
            path(
                bez((u(0.55, 0.65), 0), (0.25, 0.05), (0.0, 0.4), (0.03, 0.73)),
                arc(0.31, 0.73, 0.28, 0.26, 180, u(-175, -150)),
            )
        ],
        "straight": lambda u: [
            path(
                line((u(0.5, 0.62), 0), (0.06, 0.62)),
                arc(0.31, 0.73, 0.28, 0.26, 205, u(-175, -150)),
            )
        ],
    },
    7: {
        "plain": lambda u: [line((0.02, 0.02), (0.68, 0.02), (u(0.2, 0.35), 1.0))],
        "crossbar": lambda u: [
            line((0.02, 0.02), (0.68, 0.02), (0.28, 1.0)),
            line((u(0.22, 0.3), 0.52), (u(0.6, 0.66), u(0.46, 0.52))),
        ],
        "hook": lambda u: [
            path(
                line((0.02, u(0.12, 0.2)), (0.04, 0.02), (0.68, 0.02)),
                bez((0.68, 0.02), (0.5, 0.3), (u(0.3, 0.4), 0.6), (u(0.28, 0.35), 1.0)),
            )
        ],
    },
    8: {
        "two-loops": lambda u: [
            arc(0.35, 0.23, u(0.17, 0.22), 0.23, -60, -430),
            arc(0.35, 0.71, u(0.24, 0.3), 0.27, -90, -460),
        ],
        "one-stroke": _figure_eight,
    },
    9: {
        "straight": lambda u: [
            path(
                arc(0.3, 0.27, 0.27, 0.26, u(-30, 0), -360),
                line((0.57, 0.27), (0.55 + u(-0.05, 0.05), 1.0)),
            )
        ],
        "curved": lambda u: [
            path(
                arc(0.3, 0.27, 0.27, 0.26, u(-30, 0), -360),
                bez((0.57, 0.27), (0.6, 0.6), (0.52, 1.02), (u(0.05, 0.2), u(0.85, 0.92))),
            )
        ],
    },
}


def _warp(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A smooth random displacement (an unsteady hand); strokes that meet still meet."""
    out = points.copy()
    for axis in (0, 1):
        for _ in range(2):
            freq, phase = rng.uniform(0.5, 1.5, 2), rng.uniform(0, 2 * np.pi)
            out[:, axis] += rng.uniform(0, 0.025) * np.sin(2 * np.pi * points @ freq + phase)
    return out


def _fit(
    size: tuple[float, float], height: float, rng: np.random.Generator, pen: float = 0
) -> tuple[float, ...]:
    """Scale and random top-left corner (SCALE x pixels) that put an ink box `height` tall inside the canvas."""
    canvas, margin = SIZE * SCALE, 2 * SCALE
    scale = min(
        (height - pen) / size[1], (canvas - 2 * margin - pen) / max(size[0], 1e-6)
    )  # wide ones shrink
    width, height = size[0] * scale + pen, size[1] * scale + pen
    return (
        scale,
        rng.uniform(margin, canvas - margin - width),
        rng.uniform(margin, canvas - margin - height),
    )


def draw_stroke_digit(digit: int, style: str, rng: np.random.Generator) -> Image.Image:
    """A pen-drawn digit: jittered, warped, slanted, turned, stretched; an anti-aliased SIZE x SIZE mask."""
    strokes = [
        _warp(s, rng) for s in STYLES[digit][style](lambda low, high: float(rng.uniform(low, high)))
    ]
    slant, angle, aspect = (
        rng.uniform(-0.05, 0.35),
        np.radians(rng.uniform(-6, 6)),
        rng.uniform(0.75, 1.3),
    )
    turn = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    strokes = [s @ (turn @ [[aspect, -slant], [0, 1]]).T for s in strokes]
    low = np.min([s.min(axis=0) for s in strokes], axis=0)
    high = np.max([s.max(axis=0) for s in strokes], axis=0)
    height = rng.uniform(*HEIGHT) * SIZE * SCALE
    pen = max(SCALE, height * rng.uniform(0.05, 0.16))  # thin to bold, at least one output pixel
    scale, left, top = _fit(tuple(high - low), height, rng, pen)
    canvas = Image.new("L", (SIZE * SCALE,) * 2, 0)
    draw = ImageDraw.Draw(canvas)
    for stroke in strokes:
        xy = (stroke - low) * scale + [left + pen / 2, top + pen / 2]
        draw.line([tuple(p) for p in xy], fill=255, width=round(pen), joint="curve")
        for x, y in (xy[0], xy[-1]):  # round caps
            draw.ellipse((x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2), fill=255)
    return canvas.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def draw_font_digit(digit: int, font: Font, rng: np.random.Generator) -> Image.Image:
    """A printed digit: slanted, turned, stretched, sometimes bolder or thinner; a SIZE x SIZE mask."""
    glyph = glyphs(font)[digit]
    slant, angle, aspect = rng.uniform(-0.2, 0.2), rng.uniform(-6, 6), rng.uniform(0.85, 1.2)
    pad = int(abs(slant) * glyph.height) + 4
    sheared = Image.new("L", (glyph.width + 2 * pad, glyph.height + 8), 0)
    sheared.paste(glyph, (pad, 4))
    shear = (1, slant, -slant * sheared.height / 2, 0, 1, 0)  # about the middle row
    sheared = sheared.transform(
        sheared.size, Image.Transform.AFFINE, shear, resample=Image.Resampling.BICUBIC
    )
    turned = sheared.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    turned = turned.crop(turned.getbbox())
    scale, left, top = _fit(
        (turned.width * aspect, turned.height), rng.uniform(*HEIGHT) * SIZE * SCALE, rng
    )
    size = (max(1, round(turned.width * aspect * scale)), max(1, round(turned.height * scale)))
    canvas = Image.new("L", (SIZE * SCALE,) * 2, 0)
    canvas.paste(turned.resize(size, Image.Resampling.LANCZOS), (round(left), round(top)))
    weight = (None, ImageFilter.MaxFilter(5), ImageFilter.MaxFilter(9), ImageFilter.MinFilter(5))[
        rng.choice(4, p=[0.55, 0.2, 0.1, 0.15])
    ]  # as it is, bolder, much bolder, thinner
    filtered = canvas.filter(weight) if weight else canvas
    if np.asarray(filtered, dtype=float).sum() > 0.6 * np.asarray(canvas, dtype=float).sum():
        canvas = filtered  # but no thinning that would erase most of a light font
    return canvas.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def on_paper(mask: Image.Image, rng: np.random.Generator) -> np.ndarray:
    """Dark ink on light paper, sometimes blurred, now and then noisy: uint8 SIZE x SIZE."""
    if rng.random() < 0.25:
        mask = mask.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 0.9)))
    paper, ink = rng.uniform(*PAPER), rng.uniform(*INK)
    image = paper + (ink - paper) * np.asarray(mask, dtype=np.float64) / 255
    if rng.random() < 0.06:  # rare: a noisy image costs 2.4 KB in the npz, a clean one 0.6 KB
        image += rng.normal(0, rng.uniform(1.5, 4), image.shape)
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def make_split(split: str, all_fonts: list[Font]) -> dict[str, np.ndarray]:
    """PER_KIND printed and PER_KIND drawn images of each digit, in a seeded shuffled order."""
    seed, own = SEEDS[split], [f for f in all_fonts if f.split == split]
    family_size = Counter(f.family for f in own)
    weights = np.array(
        [family_size[f.family] ** -0.5 for f in own]
    )  # big families do not swamp small ones
    images, labels, kinds = [], [], []
    for digit in range(10):
        pick, styles = np.random.default_rng([seed, digit]), sorted(STYLES[digit])
        chosen = pick.choice(len(own), size=PER_KIND, p=weights / weights.sum())
        for i, (font, style) in enumerate(zip(chosen, pick.permutation(PER_KIND) % len(styles))):
            rng = np.random.default_rng([seed, digit, i, 0])
            images.append(on_paper(draw_font_digit(digit, own[font], rng), rng))
            rng = np.random.default_rng([seed, digit, i, 1])
            images.append(on_paper(draw_stroke_digit(digit, styles[style], rng), rng))
            kinds += [f"font:{Path(own[font].path).stem}", f"stroke:{digit}-{styles[style]}"]
            labels += [digit, digit]
    order = np.random.default_rng([seed, 10]).permutation(len(labels))
    return {
        "images": np.stack(images)[order],
        "labels": np.array(labels, dtype=np.int64)[order],
        "kinds": np.array(kinds)[order].astype("<U48"),
    }


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz (a zip of .npy files, as np.load reads) with sorted members and fixed timestamps."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(
                member, np.ascontiguousarray(arrays[name]), allow_pickle=False
            )
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr = 3, 0o644 << 16
            archive.writestr(
                info, member.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9
            )
    return buffer.getvalue()


def generate() -> tuple[bytes, str, dict[str, dict[str, np.ndarray]]]:
    """The npz bytes, the manifest text and the splits' arrays."""
    all_fonts = fonts()
    splits = {split: make_split(split, all_fonts) for split in SEEDS}
    data = npz_bytes(
        {
            f"{split}_{key}": value
            for split, arrays in splits.items()
            for key, value in arrays.items()
        }
    )
    manifest = {
        "description": "Held-out digits as users bring them, printed and pen-drawn; never for training",
        "generator": COMMAND,
        "seeds": SEEDS,
        "per_digit_per_kind": PER_KIND,
        "file": {
            "name": DATA_FILE.name,
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        },
        "image": {
            "size": [SIZE, SIZE],
            "dtype": "uint8",
            "ink": "dark on light",
            "paper_level": PAPER,
            "ink_level": INK,
            "ink_height_fraction": HEIGHT,
            "drawn_at_scale": SCALE,
        },
        "splits": {
            split: {
                "count": len(arrays["labels"]),
                "per_label": {
                    str(k): v for k, v in sorted(Counter(arrays["labels"].tolist()).items())
                },
                "per_kind": dict(sorted(Counter(arrays["kinds"].tolist()).items())),
                "font_families": sorted({f.family for f in all_fonts if f.split == split}),
            }
            for split, arrays in splits.items()
        },
        "apt_packages": APT_PACKAGES,
        "fonts": [
            {
                "path": f.path,
                "sha256": hashlib.sha256(f.file.read_bytes()).hexdigest(),
                "family": f.family,
                "split": f.split,
            }
            for f in all_fonts
        ],
        "versions": {"numpy": np.__version__, "Pillow": Image.__version__},
    }
    return data, json.dumps(manifest, indent=1) + "\n", splits


def contact_sheet(arrays: dict[str, np.ndarray], columns: int = 25) -> Image.Image:
    """A split's images sorted by label and kind, each with its label in the corner."""
    order, cell = np.lexsort((arrays["kinds"], arrays["labels"])), SIZE + 2
    sheet = Image.new("L", (columns * cell, -(-len(order) // columns) * cell), 90)
    for n, i in enumerate(order):
        x, y = n % columns * cell, n // columns * cell
        sheet.paste(Image.fromarray(arrays["images"][i]), (x, y))
        ImageDraw.Draw(sheet).text(
            (x + 2, y), str(arrays["labels"][i]), fill=0, stroke_width=2, stroke_fill=255
        )
    return sheet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="regenerate in memory; exit 1 if the files differ"
    )
    parser.add_argument(
        "--sheets", type=Path, metavar="DIR", help="also write wild_{dev,test}.png contact sheets"
    )
    args = parser.parse_args(argv)
    data, manifest, splits = generate()
    for split, arrays in splits.items() if args.sheets else ():
        contact_sheet(arrays).save(args.sheets / f"wild_{split}.png")
    if args.check:
        stale = [
            p.name
            for p, new in ((DATA_FILE, data), (MANIFEST_FILE, manifest.encode()))
            if not p.is_file() or p.read_bytes() != new
        ]
        print(
            f"wild_digits: {' and '.join(stale)} differ; rerun {COMMAND}"
            if stale
            else "wild_digits: up to date"
        )
        return 1 if stale else 0
    DATA_FILE.write_bytes(data)
    MANIFEST_FILE.write_text(manifest)
    print(f"wild_digits: wrote {DATA_FILE.name} ({len(data)} bytes) and {MANIFEST_FILE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
