"""Wild digits: a held-out set of the digits users bring to `modelzoo predict`, not MNIST's.

2,000 images of 64 x 64 grayscale, dark ink on light paper as a scan, photo or screenshot would
be: in each of the splits `dev` and `test`, 100 of each digit, half printed with a font and half
drawn as pen strokes. Never train on it: use `dev` to choose training settings and `test` only
to report.

How it was made (`generate.py`, numpy and Pillow only, every draw seeded):

- Printed: digits of 103 font files in 18 families (DejaVu, the URW base 35, Liberation,
  FreeFont, Computer Modern, STIX, Comic Neue, Humor Sans and the handwriting fonts dkg,
  Rufscript and SteveHand), each family in one split only (53 files in dev, 50 in test), so
  `test` measures type designs that `dev` never saw. Each image: slant, rotation, aspect, and
  sometimes bolder or thinner strokes.
- Drawn: 23 pen-stroke styles written for this set (1 with and without flag and base, open and
  closed 4, 7 with and without crossbar, 2 with and without loop, ...), each image with jittered
  control points, a wobbly warp, slant, rotation, aspect and pen width, drawn anti-aliased at 4x.
  Both splits use every style, with different seeds (so no image is in both).
- Both: ink 30%-85% of the height, anywhere inside the canvas; paper grey 180-255, ink 0-90;
  a quarter blurred, one in seventeen with mild noise.

`manifest.json` beside the data lists the counts per label and per kind, the font files with
their sha256, the seeds and the data file's sha256. To regenerate (needs the Debian font
packages it names) or to check that the committed files are what the generator makes:

    python -m modelzoo.datasets.wild_digits.generate [--check] [--sheets DIR]
"""

from __future__ import annotations

import io
import json
from importlib import resources
from typing import Any

import numpy as np

SPLITS = ("dev", "test")
DATA_FILE, MANIFEST_FILE = "wild_digits.npz", "manifest.json"


def load(split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images uint8 [N, 64, 64] dark on light, labels int64 [N], kinds str [N]) of one split.

    A kind names how an image was made: "font:<font file stem>" or "stroke:<digit>-<style>".
    """
    if split not in SPLITS:
        raise ValueError(f"unknown wild_digits split {split!r}: choose one of {', '.join(SPLITS)}")
    data = resources.files(__package__).joinpath(DATA_FILE).read_bytes()
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return arrays[f"{split}_images"], arrays[f"{split}_labels"], arrays[f"{split}_kinds"]


def manifest() -> dict[str, Any]:
    """The generator's record of the data: counts, fonts, seeds and the data file's sha256."""
    return json.loads(resources.files(__package__).joinpath(MANIFEST_FILE).read_text())
