"""Files to model inputs: MNIST's image rules and CSV/JSON rows, with one-line errors naming the contract."""

import json
import re
import struct
import zlib

import numpy as np
import pytest
from conftest import run_python
from PIL import Image, ImageDraw

from modelzoo.inputs import (
    MAX_IMAGE_PIXELS,
    InputError,
    load_image,
    load_images,
    load_rows,
)
from modelzoo.registry import TensorSpec

MNIST = TensorSpec.of_example("image", (28, 28, 1), "uint8")
FEATURES = TensorSpec.of_example("features", (8,), "float32")


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
    assert (
        rows.max() - rows.min() + 1 <= 21 and rows.max() - rows.min() + 1 >= 18
    )  # height fitted to 20
    centre = (
        array.sum(axis=1) @ np.arange(28) / array.sum(),
        array.sum(axis=0) @ np.arange(28) / array.sum(),
    )
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
    array = load_image(tmp_path / "d.png", TensorSpec.of_example("image", (28, 28, 1), "float32"))
    assert array.dtype == np.float32 and array.max() == 1.0 and array.min() == 0.0


def test_unreadable_and_missing_images_name_the_contract(tmp_path):
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(
        InputError, match=r"notes.png: not an image Pillow can read .*image uint8\[28,28,1\]"
    ):
        load_image(tmp_path / "notes.png", MNIST)
    with pytest.raises(InputError, match="missing.png: no such file"):
        load_image(tmp_path / "missing.png", MNIST)
    with pytest.raises(
        InputError, match=r"takes features float32\[8\], not images; give rows with --input"
    ):
        load_images([str(tmp_path / "notes.png")], FEATURES)


def test_csv_rows_with_a_header_and_json_instances(tmp_path):
    (tmp_path / "rows.csv").write_text(
        "a,b,c,d,e,f,g,h\n6,148,72,35,0,33.6,0.627,50\n\n1,85,66,29,0,26.6,0.351,31\n"
    )
    rows = load_rows(tmp_path / "rows.csv", FEATURES)
    assert rows.shape == (2, 8) and rows.dtype == np.float32 and rows[1, 1] == 85
    (tmp_path / "rows.json").write_text(
        json.dumps({"instances": [{"features": rows[0].tolist()}, rows[1].tolist()]})
    )
    np.testing.assert_array_equal(load_rows(tmp_path / "rows.json", FEATURES), rows)


@pytest.mark.parametrize(
    "name, content, message",
    [
        (
            "short.csv",
            "1,2,3\n",
            r"short.csv:1: shape \[3\], the model takes features float32\[8\]",
        ),
        (
            "text.csv",
            "1,2,3,4,5,6,7,8\n1,2,x,4,5,6,7,8\n",
            r"text.csv:2: column 3 is 'x', not a number",
        ),
        ("bad.json", "{oops", r"bad.json: not valid JSON"),
        ("empty.json", "[]", r"empty.json: no rows"),
        ("nested.json", "[[[1]]]", r"nested.json row 1: shape \[1, 1\], the model takes"),
    ],
)
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


def zeros_png(path, width, height):
    """A valid 1-bit PNG of width x height black pixels, written in a blink: a 13000 x 13000 one is 21 KB
    on disk and 169 megapixels (3.3 GB for the old loader) when decoded."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row, packer = b"\0" * (1 + (width + 7) // 8), zlib.compressobj(9)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", body)
        + chunk(b"IEND", b"")
    )


def frames(path, fmt):
    images = [Image.new("L", (30, 30), level) for level in (0, 128, 255)]
    images[0].save(path, format=fmt, save_all=True, append_images=images[1:])


def truncated_png(path):
    digit_one(size=(200, 200)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])


def corrupt_png(path):
    """A PNG whose compressed pixels are garbage (the chunk's checksum made to match)."""
    digit_one(size=(200, 200)).save(path)
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8 : start - 4])[0]
    data[start + 2 : start + length] = bytes(range(256)) * (length // 256) + bytes(length % 256)
    data[start + length : start + length + 4] = struct.pack(
        ">I", zlib.crc32(bytes(data[start - 4 : start + length]))
    )
    path.write_bytes(bytes(data))


def truncated_jpeg(path):
    digit_one(size=(200, 200)).convert("RGB").save(path, quality=90)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


BAD_IMAGES = [
    (
        "bomb.png",
        lambda p: zeros_png(p, 13000, 13000),
        r"bomb.png: 13000x13000 pixels \(169 megapixels\), over the 70-megapixel limit for an "
        r"input image; downscale it",
    ),
    (
        "huge.png",
        lambda p: zeros_png(
            p, 20000, 20000
        ),  # over Pillow's own limit: it raises before we see the size
        r"huge.png: 400 megapixels, over the 70-megapixel limit for an input image; downscale it",
    ),
    (
        "wide.png",
        lambda p: zeros_png(p, 70_000_001, 1),
        r"wide.png: 70000001x1 pixels \(70 megapixels\), over the 70-megapixel",
    ),
    (
        "truncated.png",
        truncated_png,
        r"truncated.png: a damaged or truncated PNG file Pillow cannot decode \(image file is truncated",
    ),
    (
        "corrupt.png",
        corrupt_png,
        r"corrupt.png: a damaged or truncated PNG file Pillow cannot decode",
    ),
    (
        "truncated.jpg",
        truncated_jpeg,
        r"truncated.jpg: a damaged or truncated (JPEG|image) file Pillow cannot decode",
    ),
    (
        "notes.png",
        lambda p: p.write_text("not an image"),
        r"notes.png: not an image Pillow can read .*image uint8\[28,28,1\]",
    ),
    ("empty.png", lambda p: p.write_bytes(b""), r"empty.png: not an image Pillow can read"),
    (
        "animated.gif",
        lambda p: frames(p, "GIF"),
        r"animated.gif: an animated or multi-page image \(GIF, more than one frame\); .* save the frame",
    ),
    (
        "animated.png",
        lambda p: frames(p, "PNG"),
        r"animated.png: an animated or multi-page image \(PNG",
    ),
    (
        "pages.tif",
        lambda p: frames(p, "TIFF"),
        r"pages.tif: an animated or multi-page image \(TIFF",
    ),
    ("folder.png", lambda p: p.mkdir(), r"folder.png: a folder, not an image file"),
]


@pytest.mark.parametrize("name, make, message", BAD_IMAGES, ids=[row[0] for row in BAD_IMAGES])
def test_bad_image_files_give_one_line(tmp_path, name, make, message):
    make(tmp_path / name)
    with pytest.raises(InputError, match=message) as raised:
        load_images([str(tmp_path / name)], MNIST)
    assert "\n" not in str(raised.value)


def test_an_oversized_image_is_refused_before_any_pixel_is_decoded(tmp_path, monkeypatch):
    from PIL import ImageFile

    zeros_png(tmp_path / "bomb.png", 13000, 13000)

    def no_decoding(self):
        raise AssertionError("decoded the pixels of an image over the limit")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(InputError, match="over the 70-megapixel limit"):
        load_image(tmp_path / "bomb.png", MNIST)


def test_an_image_at_the_limit_is_read_and_one_pixel_more_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr("modelzoo.inputs.images.MAX_IMAGE_PIXELS", 100 * 60)
    digit_one(size=(100, 60)).save(tmp_path / "at.png")
    digit_one(size=(101, 60)).save(tmp_path / "over.png")
    assert load_image(tmp_path / "at.png", MNIST).shape == (28, 28, 1)
    with pytest.raises(
        InputError,
        match=r"over.png: 101x60 pixels \(0.00606 megapixels\), over the 0.006-megapixel limit",
    ):
        load_image(tmp_path / "over.png", MNIST)
    assert MAX_IMAGE_PIXELS == 70_000_000


def test_a_phones_mpo_jpeg_is_read_by_its_first_frame(tmp_path):
    """Phones save photos with a depth map or preview as MPO (a multi-frame JPEG): the first frame is the photo."""
    photo = digit_one(size=(120, 120), ink=0, paper=255, width=12).convert("RGB")
    photo.save(
        tmp_path / "photo.jpg",
        format="MPO",
        save_all=True,
        append_images=[Image.new("RGB", (60, 60), "white")],
    )
    assert Image.open(tmp_path / "photo.jpg").format == "MPO"
    photo.save(tmp_path / "single.jpg", format="JPEG")
    assert (
        np.abs(
            load_image(tmp_path / "photo.jpg", MNIST).astype(int)
            - load_image(tmp_path / "single.jpg", MNIST)
        ).max()
        <= 8
    )


BAD_ROWS = [
    (
        "nan.csv",
        "6,148,72,35,0,33.6,0.627,50\n6,148,nan,35,0,33.6,0.627,50\n",
        r"nan.csv:2: column 3 is 'nan', not a finite number",
    ),
    (
        "inf.csv",
        "6,148,72,35,0,33.6,0.627,inf\n",
        r"inf.csv:1: column 8 is 'inf', not a finite number",
    ),
    (
        "neginf.csv",
        "6,148,72,35,0,33.6,-inf,50\n",
        r"neginf.csv:1: column 7 is '-inf', not a finite number",
    ),
    (
        "big.csv",
        "a,b,c,d,e,f,g,h\n6,148,72,1e39,0,33.6,0.627,50\n",
        r"big.csv:2: column 4 \(d\) is '1e39', outside float32's range \(±3.4e\+38\)",
    ),
    ("gap.csv", "6,148,72,35,,33.6,0.627,50\n", r"gap.csv:1: column 5 is empty"),
    (
        "word.csv",
        "a,b,c,d,e,f,g,h\n6,148,72,35,0,33.6,0.627,50\n6,148,72,35,0,33.6,0.627,fifty\n",
        r"word.csv:3: column 8 \(h\) is 'fifty', not a number",
    ),
    (
        "first.csv",
        "6,148,72,35,0,33.6,0.627,\n",
        r"first.csv:1: column 8 is empty",
    ),  # not taken for a header
    ("binary.csv", b"\xff\xfe\x00\x01", r"binary.csv: not a text file"),
    (
        "nan.json",
        "[[6, 148, NaN, 35, 0, 33.6, 0.627, 50]]",
        r"nan.json row 1: column 3 is NaN, not a finite number",
    ),
    (
        "inf.json",
        '{"instances": [[0,0,0,0,0,0,0,0], {"features": [6, 148, 72, 35, 0, 33.6, 0.627, -Infinity]}]}',
        r"inf.json row 2: column 8 is -Infinity, not a finite number",
    ),
    (
        "big.json",
        "[[6, 148, 72, 35, 0, 33.6, 0.627, 1e39]]",
        r"big.json row 1: column 8 is 1e\+39, outside float32's range",
    ),
    (
        "huge.json",
        "[[6, 148, 72, 35, 0, 33.6, 0.627, 1" + "0" * 400 + "]]",
        r"huge.json row 1: column 8 is 10+, too large for any float",
    ),
    (
        "text.json",
        '[[6, 148, "72", 35, 0, 33.6, 0.627, 50]]',
        r"text.json row 1: column 3 is '72', not a number",
    ),
    (
        "null.json",
        "[[6, 148, 72, null, 0, 33.6, 0.627, 50]]",
        r"null.json row 1: column 4 is null, not a number",
    ),
    ("ragged.json", "[[[1, 2], [3]]]", r"ragged.json row 1: nested lists of different lengths"),
]


@pytest.mark.parametrize("name, content, message", BAD_ROWS, ids=[row[0] for row in BAD_ROWS])
def test_values_a_model_cannot_use_name_the_file_row_and_column(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises(InputError, match=message) as raised:
        load_rows(path, FEATURES)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    "content, message",
    [
        (
            "[" + json.dumps(np.full((4, 4, 1), 7).tolist()).replace("7", "300", 1) + "]",
            r"element \[0, 0, 0\] is 300, outside uint8's range \[0, 255\]",
        ),
        (
            "[" + json.dumps(np.full((4, 4, 1), 7).tolist()).replace("7", "2.5", 1) + "]",
            r"element \[0, 0, 0\] is 2.5, not a whole number, which uint8 needs",
        ),
        (
            "[" + json.dumps(np.full((4, 4, 1), 7).tolist()).replace("7", "-1", 1) + "]",
            r"element \[0, 0, 0\] is -1, outside uint8's range",
        ),
    ],
)
def test_integer_inputs_take_whole_numbers_in_range(tmp_path, content, message):
    (tmp_path / "pixels.json").write_text(content)
    with pytest.raises(InputError, match=message):
        load_rows(tmp_path / "pixels.json", TensorSpec.of_example("image", (4, 4, 1), "uint8"))


def test_values_in_range_are_kept_exactly(tmp_path):
    (tmp_path / "rows.csv").write_text("x1,x2,x3\n-3.4e38,0,3.4e38\n1e-30,5,2\n")
    rows = load_rows(tmp_path / "rows.csv", TensorSpec.of_example("features", (3,), "float32"))
    assert rows.dtype == np.float32 and np.isfinite(rows).all() and rows[1, 1] == 5
    (tmp_path / "pixels.json").write_text(json.dumps([[0, 255, 7.0, True]]))
    np.testing.assert_array_equal(
        load_rows(tmp_path / "pixels.json", TensorSpec.of_example("p", (4,), "uint8")),
        [[0, 255, 7, 1]],
    )
    (tmp_path / "wide.csv").write_text("1e39,nan\n")
    with pytest.raises(
        InputError, match="column 2 is 'nan', not a finite number"
    ):  # a float64 input takes 1e39, not NaN
        load_rows(tmp_path / "wide.csv", TensorSpec.of_example("x", (2,), "float64"))


# Through the command: `modelzoo predict` prints the one line and exits 2, with no traceback.

CLI_CASES = [
    *[("small_cnn:mnist", name, make, message) for name, make, message in BAD_IMAGES],
    *[
        ("deep_relu_mlp:pima_diabetes", name, content, message)
        for name, content, message in BAD_ROWS
        if name
        in (
            "nan.csv",
            "inf.csv",
            "big.csv",
            "gap.csv",
            "word.csv",
            "nan.json",
            "huge.json",
            "binary.csv",
        )
    ],
]


@pytest.mark.parametrize(
    "model, name, make, message", CLI_CASES, ids=[f"{row[0]}-{row[1]}" for row in CLI_CASES]
)
def test_predict_gives_one_line_and_exit_code_2(tmp_path, model, name, make, message):
    from click.testing import CliRunner

    from modelzoo.cli import cli

    path = tmp_path / name
    if callable(make):
        make(path)
        args = ["predict", model, str(path)]
    else:
        path.write_bytes(make) if isinstance(make, bytes) else path.write_text(make)
        args = ["predict", model, "--input", str(path)]
    result = CliRunner().invoke(cli, args, prog_name="modelzoo")
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert (
        result.stdout == "" and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    )
    assert result.stderr.startswith("modelzoo: error: ") and re.search(message, result.stderr)


def test_a_decompression_bomb_is_refused_in_a_fresh_process_at_once_without_tensorflow(tmp_path):
    zeros_png(tmp_path / "bomb.png", 13000, 13000)
    # Peak memory of this process's own address space (VmHWM): ru_maxrss would carry over the pytest
    # parent's peak (vfork + exec) once the parent has loaded TensorFlow.
    code = (
        f"import sys\nsys.argv = ['modelzoo', 'predict', 'small_cnn:mnist', {str(tmp_path / 'bomb.png')!r}]\n"
        "from modelzoo.cli import main\ntry:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
        "peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))\n"
        "print(code, 'tensorflow' in sys.modules, peak // 1024)"
    )
    result = run_python(code, timeout=60)
    exit_code, tensorflow, peak_mb = result.stdout.split()
    assert (exit_code, tensorflow) == ("2", "False") and int(peak_mb) < 200, (
        result.stdout + result.stderr
    )
    assert result.stderr == (
        f"modelzoo: error: {tmp_path / 'bomb.png'}: 13000x13000 pixels (169 megapixels), over the "
        "70-megapixel limit for an input image; downscale it (e.g. to 1000 pixels on its longer side) and try again\n"
    )
