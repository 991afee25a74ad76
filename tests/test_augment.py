"""Training-time augmentation: transforms against hand-computed matrices, effects, determinism, validation."""

import textwrap

import numpy as np
import pytest
import tensorflow as tf

from modelzoo.augment import (
    Augmentation,
    augment_batch,
    augment_dataset,
    change_strokes,
    projective_transforms,
    transform_images,
)
from modelzoo.errors import UsageError

ALL_ON = Augmentation(rotation=12, shear=15, scale=0.15, aspect=0.1, shift=0.1, stroke=0.5)


def digit_like(batch: int = 8, size: int = 28) -> np.ndarray:
    """uint8 [batch, size, size, 1]: a white 'L' three pixels thick, centred, on black."""
    image = np.zeros((size, size), np.uint8)
    image[8:20, 11:14] = 255
    image[17:20, 11:18] = 255
    return np.repeat(image[None, :, :, None], batch, axis=0)


def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(x, y) centre of mass of each image [B, H, W, 1], in pixels."""
    weights = images[..., 0].astype(float)
    rows, cols = np.indices(weights.shape[1:])
    total = weights.sum(axis=(1, 2))
    return np.stack([(weights * at).sum(axis=(1, 2)) / total for at in (cols, rows)], axis=1)


def spread(images: np.ndarray) -> np.ndarray:
    """(x, y) standard deviation of each image's ink [B, H, W, 1] about its centre of mass."""
    weights = images[..., 0].astype(float)
    rows, cols = np.indices(weights.shape[1:])
    (x, y), total = centre_of_mass(images).T[:, :, None, None], weights.sum(axis=(1, 2))
    variance = [
        (weights * (at - mean) ** 2).sum(axis=(1, 2)) / total for at, mean in ((cols, x), (rows, y))
    ]
    return np.sqrt(np.stack(variance, axis=1))


def seed(a: int, b: int = 0) -> tf.Tensor:
    return tf.constant([a, b], tf.int64)


def test_all_zero_or_probability_zero_is_identity():
    images = tf.constant(digit_like())
    assert not Augmentation().enabled and not Augmentation(rotation=30, probability=0).enabled
    for aug in (Augmentation(), Augmentation(rotation=30, probability=0)):
        np.testing.assert_array_equal(augment_batch(images, seed(1), aug), images)
    dataset = tf.data.Dataset.from_tensor_slices((digit_like(), np.arange(8))).batch(4)
    assert augment_dataset(dataset, Augmentation(), seed=0) is dataset


def test_identity_transform_keeps_every_pixel():
    images = tf.constant(np.random.default_rng(0).integers(0, 256, (3, 28, 28, 1)), tf.float32)
    transforms = projective_transforms(tf.zeros([3]), 0.0, 1.0, 1.0, 0.0, 0.0, 28, 28)
    np.testing.assert_array_equal(transform_images(images, transforms), images)


@pytest.mark.parametrize(
    "compiled, channels", [(False, 1), (True, 1), (False, 3)], ids=["graph", "xla", "rgb"]
)
def test_transform_images_matches_tensorflows_projective_transform_op(compiled, channels):
    """The gather resampler against the op it replaces: ImageProjectiveTransformV3, bilinear,
    constant fill 0, on random affine and projective maps that move pixels off the edges, one
    with k = 0 on its first row and one that sends everything far away."""
    rng = np.random.default_rng(0)
    images = tf.constant(rng.integers(0, 256, (16, 28, 28, channels)), tf.float32)
    transforms = projective_transforms(
        rng.uniform(-40, 40, 16),
        rng.uniform(-20, 20, 16),
        rng.uniform(0.6, 1.4, 16),
        rng.uniform(0.6, 1.4, 16),
        rng.uniform(-9, 9, 16),
        rng.uniform(-9, 9, 16),
        28,
        28,
    ).numpy()
    transforms[8:, 6:] = rng.uniform(-0.004, 0.004, (8, 2))  # a perspective part in half of them
    transforms[14] = [1, 0, 0, 0, 1, 0, 0, -1]  # k = 1 - y: 0 on the first row
    transforms[15] = [1, 0, 1e9, 0, 1, -1e9, 0, 0]  # far outside the image
    expected = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[28, 28],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    ).numpy()
    resample = tf.function(transform_images, jit_compile=compiled)
    np.testing.assert_allclose(resample(images, tf.constant(transforms)), expected, atol=2e-3)


def test_padding_a_partial_batch_for_the_compiled_program_changes_nothing():
    images = tf.constant(np.random.default_rng(1).integers(0, 256, (5, 28, 28, 1)), tf.uint8)
    alone = augment_batch(images, seed(3), ALL_ON).numpy()
    np.testing.assert_array_equal(augment_batch(images, seed(3), ALL_ON, pad_to=8), alone)
    np.testing.assert_array_equal(augment_batch(images, seed(3), ALL_ON, pad_to=2), alone)


@pytest.mark.parametrize(
    "params, expected",
    [
        ((0, 0, 1, 1, 0, 0), [1, 0, 0, 0, 1, 0, 0, 0]),
        ((0, 0, 1, 1, 2, -1), [1, 0, -2, 0, 1, 1, 0, 0]),  # out = in + (2, -1)
        ((90, 0, 1, 1, 0, 0), [0, -1, 4, 1, 0, 0, 0, 0]),  # in = R(-90) (out - c) + c, c = (2, 2)
        ((0, 45, 1, 1, 0, 0), [1, 1, -2, 0, 1, 0, 0, 0]),  # in_x = out_x + (out_y - 2)
        ((0, 0, 2, 0.5, 0, 0), [0.5, 0, 1, 0, 2, -2, 0, 0]),  # in = (out - c) / zoom + c
        # all at once: in = Z^-1 Sh^-1 R^-1 (out - c - t) + c = [[.5, -.5], [2, 0]] (out - (3, 2)) + (2, 2)
        ((90, 45, 2, 0.5, 1, 0), [0.5, -0.5, 1.5, 2, 0, -4, 0, 0]),
    ],
)
def test_projective_transforms_match_hand_computed_matrices(params, expected):
    transforms = projective_transforms(*(tf.constant([float(p)]) for p in params), 5, 5)
    np.testing.assert_allclose(transforms.numpy()[0], expected, atol=1e-6)


def test_rotation_by_90_degrees_turns_a_bar_counterclockwise():
    image = np.zeros((1, 5, 5, 1), np.float32)
    image[0, 2, 2:, 0] = 255  # from the centre to the right edge
    expected = np.zeros_like(image)
    expected[0, :3, 2, 0] = 255  # from the top edge to the centre
    transforms = projective_transforms(tf.constant([90.0]), 0.0, 1.0, 1.0, 0.0, 0.0, 5, 5)
    np.testing.assert_allclose(
        transform_images(tf.constant(image), transforms), expected, atol=1e-3
    )


def test_rotation_stays_within_its_range():
    bar = np.zeros((64, 28, 28, 1), np.uint8)
    bar[:, 13:15, 4:24] = 255
    out = (
        augment_batch(tf.constant(bar), seed(3), Augmentation(rotation=10))
        .numpy()[..., 0]
        .astype(float)
    )
    rows, cols = np.indices((28, 28))
    angles = []
    for image in out:  # principal axis from second moments; y grows downwards
        x, y = np.average(cols, weights=image), np.average(rows, weights=image)
        cxx, cyy = (
            np.average((cols - x) ** 2, weights=image),
            np.average((rows - y) ** 2, weights=image),
        )
        cxy = np.average((cols - x) * (rows - y), weights=image)
        angles.append(np.degrees(0.5 * np.arctan2(-2 * cxy, cxx - cyy)))
    assert max(np.abs(angles)) <= 10.5 and min(angles) < -5 and max(angles) > 5


def test_shift_moves_the_centre_of_mass():
    images = digit_like(2)
    transforms = projective_transforms(
        tf.zeros([2]), 0.0, 1.0, 1.0, tf.constant([3.0, -2.0]), 1.0, 28, 28
    )
    moved = transform_images(tf.constant(images, tf.float32), transforms).numpy()
    np.testing.assert_allclose(
        centre_of_mass(moved) - centre_of_mass(images), [[3, 1], [-2, 1]], atol=1e-3
    )

    images = digit_like(64)
    out = augment_batch(tf.constant(images), seed(4), Augmentation(shift=0.1)).numpy()
    offsets = centre_of_mass(out) - centre_of_mass(images)
    assert np.abs(offsets).max() <= 0.1 * 28 + 0.05  # up to 2.8 pixels either way, per axis
    assert (offsets.min(axis=0) < -1.5).all() and (offsets.max(axis=0) > 1.5).all()
    assert abs(np.corrcoef(offsets.T)[0, 1]) < 0.5  # x and y drawn independently


@pytest.mark.parametrize("aug", [Augmentation(scale=0.2), Augmentation(aspect=0.4)])
def test_scale_zooms_both_axes_and_aspect_changes_their_ratio(aug):
    square = np.zeros((64, 28, 28, 1), np.uint8)
    square[:, 9:19, 9:19] = 255
    out = augment_batch(tf.constant(square), seed(9), aug).numpy()
    size_x, size_y = (spread(out) / spread(square)).T
    ratio, zoom = size_x / size_y, np.sqrt(size_x * size_y)
    if aug.scale:
        np.testing.assert_allclose(ratio, 1, atol=0.02)
        assert zoom.min() < 0.9 and zoom.max() > 1.1 and np.all(np.abs(zoom - 1) < 0.22)
    else:
        np.testing.assert_allclose(zoom, 1, atol=0.03)
        assert ratio.min() < 0.75 and ratio.max() > 1.25 and np.all(np.abs(ratio - 1) < 0.42)


@pytest.mark.parametrize("batch_size", [None, 4], ids=["unpadded", "padded"])
def test_output_dtype_shape_and_the_last_partial_batch(batch_size):
    dataset = tf.data.Dataset.from_tensor_slices((digit_like(10), np.arange(10))).batch(4)
    augmented = augment_dataset(dataset, ALL_ON, seed=0, batch_size=batch_size)
    assert augmented.element_spec == dataset.element_spec
    assert augmented.cardinality() == 3
    batches = list(augmented.as_numpy_iterator())
    assert [x.shape for x, _ in batches] == [(4, 28, 28, 1), (4, 28, 28, 1), (2, 28, 28, 1)]
    assert all(x.dtype == np.uint8 for x, _ in batches)
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), np.arange(10))
    unpadded = list(augment_dataset(dataset, ALL_ON, seed=0).as_numpy_iterator())
    for (x, _), (same, _) in zip(batches, unpadded):
        np.testing.assert_array_equal(x, same)


def test_same_seed_same_output_other_seed_other_output():
    images = tf.constant(digit_like())
    first, again = (augment_batch(images, seed(7, 1), ALL_ON).numpy() for _ in range(2))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, augment_batch(images, seed(8, 1), ALL_ON).numpy())
    assert len({image.tobytes() for image in first}) == len(first)  # each example draws its own


def test_stroke_thickening_adds_ink_and_thinning_removes_it():
    images = tf.constant(digit_like(3), tf.float32)
    out = change_strokes(images, tf.constant([1, -1, 0])).numpy()
    ink, before = out.sum(axis=(1, 2, 3)), images.numpy().sum(axis=(1, 2, 3))
    assert ink[0] > before[0] and ink[1] < before[1] and ink[2] == before[2]
    reference = [
        tf.nn.max_pool2d(images, 2, 1, "SAME")[0],
        -tf.nn.max_pool2d(-images, 2, 1, "SAME")[1],
    ]
    np.testing.assert_array_equal(out[:2], np.stack(reference))

    line = np.zeros((1, 28, 28, 1), np.float32)
    line[0, 14, 4:24] = 255  # one pixel wide: thinning would erase it, so it is kept
    np.testing.assert_array_equal(change_strokes(tf.constant(line), tf.constant([-1])), line)

    batch = digit_like(32)
    out = augment_batch(tf.constant(batch), seed(5), Augmentation(stroke=1.0)).numpy()
    change = np.sign(out.astype(int).sum(axis=(1, 2, 3)) - batch.astype(int).sum(axis=(1, 2, 3)))
    assert set(change) == {-1, 1}


def test_probability_leaves_the_rest_unchanged():
    images = digit_like(64)
    out = augment_batch(
        tf.constant(images), seed(6), Augmentation(rotation=30, probability=0.5)
    ).numpy()
    unchanged = np.all(out == images, axis=(1, 2, 3))
    assert 10 < unchanged.sum() < 54


def test_pipeline_is_deterministic_and_new_each_epoch(fresh_python):
    code = textwrap.dedent(
        """
        import numpy as np, tensorflow as tf
        from modelzoo.augment import Augmentation, augment_dataset
        tf.config.experimental.enable_op_determinism()
        images = np.random.default_rng(0).integers(0, 256, (40, 28, 28, 1), dtype=np.uint8)
        aug = Augmentation(rotation=12, shear=15, scale=0.15, aspect=0.1, shift=0.1, stroke=0.5)
        def run(seed):
            base = tf.data.Dataset.from_tensor_slices((images, np.arange(40))).batch(8)
            dataset = augment_dataset(base.map(lambda x, y: (x, y), num_parallel_calls=4), aug, seed)
            return [np.concatenate([x for x, _ in dataset.as_numpy_iterator()]) for epoch in range(2)]
        first, again, other = run(1), run(1), run(2)
        assert all(np.array_equal(a, b) for a, b in zip(first, again)), "same seed differs"
        assert not np.array_equal(first[0], first[1]), "epochs repeat"
        assert not np.array_equal(first[0], other[0]), "seeds agree"
        print("ok")
        """
    )
    result = fresh_python(code)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-2000:]


@pytest.mark.parametrize(
    "field, value",
    [
        ("rotation", -1),
        ("rotation", 181),
        ("shear", 90),
        ("scale", 1.0),
        ("aspect", 1.5),
        ("shift", 0.5),
        ("stroke", 1.1),
        ("probability", -0.1),
        ("probability", 2),
        ("rotation", "10"),
        ("shift", None),
        ("stroke", True),
        ("scale", float("nan")),
    ],
)
def test_validation_names_the_field(field, value):
    with pytest.raises(UsageError, match=rf"augmentation {field} must be"):
        Augmentation(**{field: value})


def test_to_dict_round_trips_and_dataset_seed_is_checked():
    assert Augmentation(**ALL_ON.to_dict()) == ALL_ON
    assert ALL_ON.to_dict()["rotation"] == 12 and ALL_ON.enabled
    dataset = tf.data.Dataset.from_tensor_slices((digit_like(), np.arange(8))).batch(4)
    with pytest.raises(UsageError, match="seed"):
        augment_dataset(dataset, ALL_ON, seed="0")


def test_importing_augment_does_not_import_tensorflow(fresh_python):
    result = fresh_python("import sys, modelzoo.augment; print('tensorflow' in sys.modules)")
    assert result.returncode == 0 and result.stdout.strip() == "False", result.stderr
