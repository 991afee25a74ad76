"""Files to model inputs: MNIST's image rules and CSV/JSON rows, with one-line errors naming the contract."""

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from modelzoo.inputs import InputError, InputSpec, load_image, load_images, load_rows

MNIST = InputSpec("image", "uint8", (28, 28, 1))
FEATURES = InputSpec("features", "float32", (8,))


def digit_one(size=(28, 28), ink=255, paper=0, width=3):
    """A vertical stroke (a '1') of the given colours, centred."""
    image = Image.new("L", size, paper)
    w, h = size
    ImageDraw.Draw(image).line([(w // 2, h // 5), (w // 2, h - h // 5)], fill=ink, width=width)
    return image


def test_a_28x28_white_on_black_image_is_used_as_it_is(tmp_path):
    image = digit_one()
    image.save(tmp_path / "d.png")
    array = load_image(tmp_path / "d.png", MNIST)
    assert array.shape == (28, 28, 1) and array.dtype == np.uint8
    np.testing.assert_array_equal(array[..., 0], np.asarray(image))


def test_black_on_white_is_inverted(tmp_path):
    digit_one(ink=0, paper=255).save(tmp_path / "d.png")
    array = load_image(tmp_path / "d.png", MNIST)[..., 0]
    assert array[0, 0] == 0 and array.max() == 255


def test_a_large_rgb_scan_is_fitted_into_20x20_and_centred_by_mass(tmp_path):
    big = digit_one(size=(300, 200), ink=20, paper=230, width=30).convert("RGB")
    big.save(tmp_path / "scan.jpg", quality=95)
    array = load_image(tmp_path / "scan.jpg", MNIST)[..., 0].astype(float)
    rows, cols = np.nonzero(array > 64)
    assert rows.max() - rows.min() + 1 <= 21 and rows.max() - rows.min() + 1 >= 18  # height fitted to 20
    centre = (array.sum(axis=1) @ np.arange(28) / array.sum(), array.sum(axis=0) @ np.arange(28) / array.sum())
    assert centre == pytest.approx((13.5, 13.5), abs=0.75)
    assert array[0].max() == 0 and array[:, 0].max() == 0  # black background


def test_transparency_is_flattened_onto_white(tmp_path):
    rgba = Image.new("RGBA", (56, 56), (0, 0, 0, 0))
    ImageDraw.Draw(rgba).line([(28, 8), (28, 48)], fill=(0, 0, 0, 255), width=6)
    rgba.save(tmp_path / "drawn.png")
    array = load_image(tmp_path / "drawn.png", MNIST)[..., 0]
    assert array[0, 0] == 0 and array.max() > 200  # black ink on transparent -> white on black


def test_float_inputs_are_scaled_to_unit_range(tmp_path):
    digit_one().save(tmp_path / "d.png")
    array = load_image(tmp_path / "d.png", InputSpec("image", "float32", (28, 28, 1)))
    assert array.dtype == np.float32 and array.max() == 1.0 and array.min() == 0.0


def test_unreadable_and_missing_images_name_the_contract(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(InputError, match=r"notes.png: not an image Pillow can read .*image uint8\[28,28,1\]"):
        load_image(tmp_path / "notes.png", MNIST)
    with pytest.raises(InputError, match="missing.png: no such file"):
        load_image(tmp_path / "missing.png", MNIST)
    with pytest.raises(InputError, match=r"takes features float32\[8\], not images; give rows with --input"):
        load_images([str(tmp_path / "notes.png")], FEATURES)


def test_csv_rows_with_a_header_and_json_instances(tmp_path):
    (tmp_path / "rows.csv").write_text("a,b,c,d,e,f,g,h\n6,148,72,35,0,33.6,0.627,50\n\n1,85,66,29,0,26.6,0.351,31\n")
    rows = load_rows(tmp_path / "rows.csv", FEATURES)
    assert rows.shape == (2, 8) and rows.dtype == np.float32 and rows[1, 1] == 85
    (tmp_path / "rows.json").write_text(json.dumps({"instances": [{"features": rows[0].tolist()}, rows[1].tolist()]}))
    np.testing.assert_array_equal(load_rows(tmp_path / "rows.json", FEATURES), rows)


@pytest.mark.parametrize("name, content, message", [
    ("short.csv", "1,2,3\n", r"short.csv:1: shape \[3\], the model takes features float32\[8\]"),
    ("text.csv", "1,2,3,4,5,6,7,8\n1,2,x,4,5,6,7,8\n", r"text.csv:2: not a number"),
    ("bad.json", "{oops", r"bad.json: not valid JSON"),
    ("empty.json", "[]", r"empty.json: no rows"),
    ("nested.json", "[[[1]]]", r"nested.json row 1: shape \[1, 1\], the model takes"),
])
def test_bad_rows_give_one_line_naming_where(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(InputError, match=message):
        load_rows(tmp_path / name, FEATURES)


@pytest.mark.parametrize("paper, ink", [(180, 60), (200, 90), (215, 0)])
def test_grey_paper_becomes_a_black_background_and_the_digit_is_still_fitted(tmp_path, paper, ink):
    """A photo or scan on grey paper: the paper is background, not ink, so the digit is cropped and fitted."""
    digit_one(size=(200, 200), ink=ink, paper=paper, width=20).save(tmp_path / "grey.png")
    digit_one(size=(200, 200), ink=0, paper=255, width=20).save(tmp_path / "white.png")
    grey = load_image(tmp_path / "grey.png", MNIST)[..., 0].astype(int)
    white = load_image(tmp_path / "white.png", MNIST)[..., 0].astype(int)
    assert grey[0].max() == 0 and grey[:, 0].max() == 0 and grey.max() == 255
    rows = np.flatnonzero((grey > 64).any(axis=1))
    assert 18 <= rows[-1] - rows[0] + 1 <= 21
    assert np.abs(grey - white).max() <= 8
