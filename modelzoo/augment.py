"""Training-time augmentation of MNIST-style digit images, applied in the tf.data pipeline.

    aug = Augmentation(rotation=12, shear=15, scale=0.15, aspect=0.1, shift=0.1, stroke=0.5)
    train = augment_dataset(splits.train, aug, seed=0)

The models stay unchanged: augmentation maps batches of uint8 [B, H, W, 1] white-on-black
images to batches of the same shape and dtype. Each augmented image gets random rotation, shear
(slant), zoom, aspect change and translation about its centre, composed into one projective
transform so it is resampled once (bilinear, black fill), then maybe a stroke one pixel thicker
or thinner. All randomness is stateless: a batch's output is a pure function of (images, seed),
so pipelines are reproducible, also under `tf.config.experimental.enable_op_determinism()`.
Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from modelzoo.checks import is_finite_number
from modelzoo.errors import UsageError

if TYPE_CHECKING:
    import tensorflow as tf

    Values = tf.Tensor | float  # a [B] tensor, or one value for every example

MIN_THINNED_INK = 0.3  # see change_strokes
# field -> (largest allowed value, whether that value itself is allowed)
_LIMITS = {
    "rotation": (180.0, True),
    "shear": (90.0, False),
    "scale": (1.0, False),
    "aspect": (1.0, False),
    "shift": (0.5, False),
    "stroke": (1.0, True),
    "probability": (1.0, True),
}


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random changes; all 0 (the default) leaves images unchanged.

    rotation: max degrees, uniform in +-rotation. shear: max slant in degrees, +-.
    scale: zoom factor uniform in [1 - scale, 1 + scale], same in x and y.
    aspect: x/y scale ratio uniform in [1 - aspect, 1 + aspect] (area kept).
    shift: max translation per axis as a fraction of the image size, +-.
    stroke: probability that strokes get one pixel thicker or thinner (half each, 2x2 max/min filter).
    probability: fraction of images augmented at all; the rest pass unchanged.
    """

    rotation: float = 0.0
    shear: float = 0.0
    scale: float = 0.0
    aspect: float = 0.0
    shift: float = 0.0
    stroke: float = 0.0
    probability: float = 1.0

    def __post_init__(self) -> None:
        self.check()

    def check(self) -> None:
        """Raise UsageError naming the first field that is not a number in its allowed range."""
        for name, (limit, inclusive) in _LIMITS.items():
            value = getattr(self, name)
            if not is_finite_number(value):
                raise UsageError(f"augmentation {name} must be a number, got {value!r}")
            if value < 0 or value > limit or (value == limit and not inclusive):
                bound = f"<= {limit:g}" if inclusive else f"< {limit:g}"
                raise UsageError(f"augmentation {name} must be >= 0 and {bound}, got {value!r}")

    @property
    def enabled(self) -> bool:
        """Whether any image can change: some range nonzero and probability > 0."""
        return self.probability > 0 and (self.geometric or self.stroke > 0)

    @property
    def geometric(self) -> bool:
        """Whether any of rotation, shear, scale, aspect or shift is nonzero."""
        return any((self.rotation, self.shear, self.scale, self.aspect, self.shift))

    def to_dict(self) -> dict[str, float]:
        """The fields as a plain dict (for configs and logs); `Augmentation(**d)` reverses it."""
        return asdict(self)


def projective_transforms(
    angle: Values,
    shear: Values,
    zoom_x: Values,
    zoom_y: Values,
    shift_x: Values,
    shift_y: Values,
    height: int | tf.Tensor,
    width: int | tf.Tensor,
) -> tf.Tensor:
    """Per-example transforms [B, 8] for `tf.raw_ops.ImageProjectiveTransformV3`.

    Forward (input -> output), about the image centre: zoom by (zoom_x, zoom_y), then slant by
    `shear` degrees (top leans right), then rotate `angle` degrees counterclockwise as displayed,
    then translate by (shift_x, shift_y) pixels (right, down). The op wants the inverse map
    output -> input: in = Z^-1 Sh^-1 R^-1 (out - c - t) + c, with c the centre ((W-1)/2, (H-1)/2).
    """
    import tensorflow as tf

    angle, shear, zoom_x, zoom_y, shift_x, shift_y = (
        tf.cast(value, tf.float32) for value in (angle, shear, zoom_x, zoom_y, shift_x, shift_y)
    )
    radians, slant = angle * (math.pi / 180), tf.tan(shear * (math.pi / 180))
    cos, sin = tf.cos(radians), tf.sin(radians)
    m00, m01 = (cos + slant * sin) / zoom_x, (slant * cos - sin) / zoom_x
    m10, m11 = sin / zoom_y, cos / zoom_y
    cx, cy = (tf.cast(width, tf.float32) - 1) / 2, (tf.cast(height, tf.float32) - 1) / 2
    x0, y0 = cx + shift_x, cy + shift_y
    zero = tf.zeros_like(m00)
    return tf.stack(
        [m00, m01, cx - m00 * x0 - m01 * y0, m10, m11, cy - m10 * x0 - m11 * y0, zero, zero], -1
    )


def transform_images(images: tf.Tensor, transforms: tf.Tensor) -> tf.Tensor:
    """Resample float images [B, H, W, C] once each with transforms [B, 8] (bilinear, fill 0)."""
    import tensorflow as tf

    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=tf.constant(0.0, tf.float32),
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )


def change_strokes(images: tf.Tensor, change: tf.Tensor) -> tf.Tensor:
    """Strokes one pixel thicker where change is 1 (2x2 max filter), thinner where -1 (min), else kept.

    images: float [B, H, W, C] in [0, 255]; change: int [B]. A min filter is a max filter of the
    negated image, so one separable 2x2 max (window down and right) serves both directions.
    Thinning that would leave less than MIN_THINNED_INK of an image's ink (strokes already about
    one pixel wide, which would fade to faint grey) is skipped.
    """
    import tensorflow as tf

    change = tf.reshape(change, [-1, 1, 1, 1])
    sign = tf.where(change < 0, -1.0, 1.0)
    padded = tf.pad(sign * images, [[0, 0], [0, 1], [0, 1], [0, 0]], constant_values=-256.0)
    rows = tf.maximum(padded[:, :-1], padded[:, 1:])
    filtered = sign * tf.maximum(rows[:, :, :-1], rows[:, :, 1:])
    ink, thinned_ink = (tf.reduce_sum(x, axis=[1, 2, 3], keepdims=True) for x in (images, filtered))
    keep = (change == 0) | ((change < 0) & (thinned_ink < MIN_THINNED_INK * ink))
    return tf.where(keep, images, filtered)


def augment_batch(images: tf.Tensor, seeds: tf.Tensor, augmentation: Augmentation) -> tf.Tensor:
    """Augment a batch of uint8 images [B, H, W, 1]; a pure function of (images, seeds).

    `seeds` is a shape [2] integer tensor (a stateless RNG seed for the whole batch); each example
    draws its own parameters from it.
    """
    import tensorflow as tf

    if not augmentation.enabled:
        return images
    a = augmentation
    shape = tf.shape(images)
    # per example, in [0, 1): rotation, shear, zoom, aspect, shift x, shift y, stroke, apply
    draws = tf.random.stateless_uniform([shape[0], 8], seed=seeds)
    sym = 2 * draws - 1  # uniform in [-1, 1)
    out = tf.cast(images, tf.float32)
    if a.geometric:
        ratio = tf.sqrt(1 + a.aspect * sym[:, 3])
        zoom = 1 + a.scale * sym[:, 2]
        shift = a.shift * tf.cast(shape[2:0:-1], tf.float32) * sym[:, 4:6]  # (x, y) in pixels
        transforms = projective_transforms(
            a.rotation * sym[:, 0],
            a.shear * sym[:, 1],
            zoom * ratio,
            zoom / ratio,
            shift[:, 0],
            shift[:, 1],
            shape[1],
            shape[2],
        )
        out = transform_images(out, transforms)
    if a.stroke > 0:
        stroke = draws[:, 6]
        change = tf.where(stroke < a.stroke / 2, 1, tf.where(stroke < a.stroke, -1, 0))
        out = change_strokes(out, change)
    out = tf.cast(tf.clip_by_value(tf.round(out), 0, 255), tf.uint8)
    if a.probability < 1:
        apply = tf.reshape(draws[:, 7] < a.probability, [-1, 1, 1, 1])
        out = tf.where(apply, out, images)
    out.set_shape(images.shape)
    return out


def augment_dataset(
    dataset: tf.data.Dataset, augmentation: Augmentation, seed: int
) -> tf.data.Dataset:
    """Augment the images of a batched (images, labels, ...) dataset, new draws every epoch.

    Each batch gets its seed from `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`:
    every iteration (epoch) draws afresh, and two runs with the same seed (and the same global
    seed, `tf.random.set_seed`) draw the same. Element spec and batch order are unchanged.
    """
    import tensorflow as tf

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"augmentation seed must be an integer, got {seed!r}")
    if not augmentation.enabled:
        return dataset
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    def augment(batch, batch_seed):
        return (augment_batch(batch[0], batch_seed, augmentation), *batch[1:])

    return tf.data.Dataset.zip(dataset, seeds).map(
        augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
