"""The wild digits held-out set: what the loader returns and that the committed files agree."""

import hashlib
from collections import Counter
from importlib import resources

import numpy as np
import pytest

from modelzoo.datasets import wild_digits
from modelzoo.datasets.wild_digits import SPLITS, load, manifest


@pytest.fixture(scope="module")
def splits():
    return {split: load(split) for split in SPLITS}


def font_kinds(kinds):
    return {k for k in kinds.tolist() if k.startswith("font:")}


def stroke_kinds(kinds):
    return {k for k in kinds.tolist() if k.startswith("stroke:")}


@pytest.mark.parametrize("split", SPLITS)
def test_shapes_and_dtypes(splits, split):
    images, labels, kinds = splits[split]
    assert images.dtype == np.uint8 and images.shape == (1000, 64, 64)
    assert labels.dtype == np.int64 and labels.shape == (1000,)
    assert kinds.dtype.kind == "U" and kinds.shape == (1000,)
    assert set(labels.tolist()) == set(range(10))


@pytest.mark.parametrize("split", SPLITS)
def test_every_digit_has_as_many_printed_as_drawn_images(splits, split):
    _, labels, kinds = splits[split]
    printed = np.char.startswith(kinds, "font:")
    assert (printed | np.char.startswith(kinds, "stroke:")).all()
    assert Counter(labels[printed].tolist()) == {d: 50 for d in range(10)}
    assert Counter(labels[~printed].tolist()) == {d: 50 for d in range(10)}


def test_a_stroke_kind_names_its_own_digit(splits):
    for _, labels, kinds in splits.values():
        drawn = np.char.startswith(kinds, "stroke:")
        assert all(
            k.startswith(f"stroke:{d}-")
            for k, d in zip(kinds[drawn].tolist(), labels[drawn].tolist())
        )


def test_splits_share_no_font_and_no_font_family(splits):
    assert not font_kinds(splits["dev"][2]) & font_kinds(splits["test"][2])
    families = {split: set(manifest()["splits"][split]["font_families"]) for split in SPLITS}
    assert families["dev"] and families["test"] and not families["dev"] & families["test"]
    for font in manifest()["fonts"]:
        assert font["family"] in families[font["split"]]


def test_fonts_are_split_roughly_in_half(splits):
    dev, test = len(font_kinds(splits["dev"][2])), len(font_kinds(splits["test"][2]))
    assert dev >= 40 and test >= 40 and abs(dev - test) <= 0.2 * (dev + test)


def test_splits_draw_the_same_stroke_styles_but_no_same_image(splits):
    assert stroke_kinds(splits["dev"][2]) == stroke_kinds(splits["test"][2])
    assert len(stroke_kinds(splits["dev"][2])) >= 20
    dev = {image.tobytes() for image in splits["dev"][0]}
    assert not any(image.tobytes() in dev for image in splits["test"][0])


@pytest.mark.parametrize("split", SPLITS)
def test_dark_ink_on_light_paper_with_the_digit_inside_the_canvas(splits, split):
    images = splits[split][0].astype(int)
    border = np.concatenate(
        [images[:, 0], images[:, -1], images[:, :, 0], images[:, :, -1]], axis=1
    )
    ink = images.reshape(len(images), -1).min(axis=1)
    assert (
        border.mean(axis=1) >= 175
    ).all()  # `modelzoo predict` inverts when the border is bright
    assert (border.min(axis=1) - ink >= 60).all()  # no ink touches the border


def test_manifest_matches_the_data_file(splits):
    record = manifest()
    data = resources.files(wild_digits).joinpath(record["file"]["name"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == record["file"]["sha256"]
    assert len(data) == record["file"]["bytes"] < 1_600_000
    for split, (_, labels, kinds) in splits.items():
        counts = record["splits"][split]
        assert counts["count"] == len(labels)
        assert counts["per_label"] == {str(k): v for k, v in Counter(labels.tolist()).items()}
        assert counts["per_kind"] == dict(Counter(kinds.tolist()))
    used = font_kinds(splits["dev"][2]) | font_kinds(splits["test"][2])
    assert {
        "font:" + font["path"].rsplit("/", 1)[1].rsplit(".", 1)[0] for font in record["fonts"]
    } == used
    assert all(len(font["sha256"]) == 64 for font in record["fonts"])


def test_an_unknown_split_is_refused_naming_the_splits():
    with pytest.raises(ValueError, match="dev, test"):
        load("train")


def test_loading_does_not_import_tensorflow(fresh_python):
    result = fresh_python(
        "import sys\n"
        "from modelzoo.datasets.wild_digits import load\n"
        "load('dev')\n"
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n"
    )
    assert result.returncode == 0, result.stderr
