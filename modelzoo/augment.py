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

import functools
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
    """Resample float images [B, H, W, C] once each with transforms [B, 8] (bilinear, fill 0).

    The same map as `tf.raw_ops.ImageProjectiveTransformV3` with BILINEAR interpolation and
    CONSTANT fill 0 (tests/test_augment.py checks it against that op), written as gathers so
    that XLA can compile it together with the rest of `augment_batch`: the op has no XLA kernel,
    and fused this way a batch of 256 digits resamples about 3x faster on this project's CPU.
    Each output pixel (x, y) reads the input at ((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k),
    k = c0 x + c1 y + 1, from the four pixels around it; neighbours outside the image read 0, and
    so does a pixel where k = 0.
    """
    import tensorflow as tf

    shape = tf.shape(images)
    batch, height, width, channels = shape[0], shape[1], shape[2], shape[3]
    ys, xs = tf.meshgrid(
        tf.range(height, dtype=tf.float32), tf.range(width, dtype=tf.float32), indexing="ij"
    )
    t = tf.cast(transforms, tf.float32)[:, :, None, None]  # [B, 8, 1, 1] against [H, W]
    k = t[:, 6] * xs + t[:, 7] * ys + 1
    defined = k != 0
    k = tf.where(defined, k, 1.0)

    def source(a, b, c, size):
        # Beyond one pixel outside the image every neighbour reads 0: clipping there keeps the
        # result and the integer cast in range.
        at = (a * xs + b * ys + c) / k
        return tf.clip_by_value(at, -2.0, tf.cast(size, tf.float32) + 1)

    source_x = source(t[:, 0], t[:, 1], t[:, 2], width)
    source_y = source(t[:, 3], t[:, 4], t[:, 5], height)
    left, top = tf.floor(source_x), tf.floor(source_y)
    right_weight, bottom_weight = (source_x - left)[..., None], (source_y - top)[..., None]
    left, top = tf.cast(left, tf.int32), tf.cast(top, tf.int32)
    pixels = tf.reshape(images, [-1, channels])  # one row per pixel
    first = tf.reshape(tf.range(batch) * (height * width), [-1, 1, 1])

    def read(y, x):
        inside = defined & (x >= 0) & (x < width) & (y >= 0) & (y < height)
        index = (
            first + tf.clip_by_value(y, 0, height - 1) * width + tf.clip_by_value(x, 0, width - 1)
        )
        return tf.where(inside[..., None], tf.gather(pixels, index), 0.0)

    upper = (1 - right_weight) * read(top, left) + right_weight * read(top, left + 1)
    lower = (1 - right_weight) * read(top + 1, left) + right_weight * read(top + 1, left + 1)
    return (1 - bottom_weight) * upper + bottom_weight * lower


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


def augment_batch(
    images: tf.Tensor, seeds: tf.Tensor, augmentation: Augmentation, pad_to: int | None = None
) -> tf.Tensor:
    """Augment a batch of uint8 images [B, H, W, 1]; a pure function of (images, seeds).

    `seeds` is a shape [2] integer tensor (a stateless RNG seed for the whole batch); each example
    draws its own parameters from it. `pad_to`: a batch smaller than this is padded to it for
    the XLA program and cut back after (the output is the same), so that a data set's last,
    partial batch reuses the full batches' compiled program instead of compiling its own.
    """
    import tensorflow as tf

    if not augmentation.enabled:
        return images
    # per example, in [0, 1): rotation, shear, zoom, aspect, shift x, shift y, stroke, apply.
    # Drawn outside XLA: its stateless generator gives other numbers than TensorFlow's kernel.
    count = tf.shape(images)[0]
    draws = tf.random.stateless_uniform([count, 8], seed=seeds)
    missing = tf.maximum(0, (pad_to or 0) - count)
    out = _compiled(augmentation)(
        tf.pad(images, [[0, missing], [0, 0], [0, 0], [0, 0]]),
        tf.pad(draws, [[0, missing], [0, 0]]),
    )[:count]
    out.set_shape(images.shape)
    return out


@functools.cache
def _compiled(augmentation: Augmentation):
    """`apply_draws` for one augmentation as an XLA program (compiled once per batch shape).

    Fused, a batch of 256 digits takes about half the time of the same work as separate
    TensorFlow ops (ImageProjectiveTransformV3 among them) on this project's CPU;
    benchmarks/training_cost.py measures what augmenting costs an epoch.
    """
    import tensorflow as tf

    # autograph off: every branch is on the Python-side `augmentation`, none on a tensor, and
    # converting the code would take about a second of each process's first trace
    return tf.function(
        lambda images, draws: apply_draws(images, draws, augmentation),
        jit_compile=True,
        autograph=False,
    )


def apply_draws(images: tf.Tensor, draws: tf.Tensor, augmentation: Augmentation) -> tf.Tensor:
    """Augment uint8 images [B, H, W, 1] with per-example uniform draws [B, 8] in [0, 1)."""
    import tensorflow as tf

    a = augmentation
    shape = tf.shape(images)
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
    return out


def augment_dataset(
    dataset: tf.data.Dataset, augmentation: Augmentation, seed: int, batch_size: int | None = None
) -> tf.data.Dataset:
    """Augment the images of a batched (images, labels, ...) dataset, new draws every epoch.

    Each batch gets its seed from `tf.data.Dataset.random(seed, rerandomize_each_iteration=True)`:
    every iteration (epoch) draws afresh, and two runs with the same seed (and the same global
    seed, `tf.random.set_seed`) draw the same. Element spec and batch order are unchanged.
    `batch_size`, the dataset's batch size where known, lets the last partial batch reuse the
    full batches' XLA program (see `augment_batch`).
    """
    import tensorflow as tf

    if isinstance(seed, bool) or not isinstance(seed, int):
        raise UsageError(f"augmentation seed must be an integer, got {seed!r}")
    if not augmentation.enabled:
        return dataset
    seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)

    @tf.autograph.experimental.do_not_convert  # no tensor-dependent Python branch to convert
    def augment(batch, batch_seed):
        return (augment_batch(batch[0], batch_seed, augmentation, batch_size), *batch[1:])

    return tf.data.Dataset.zip(dataset, seeds).map(
        augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
