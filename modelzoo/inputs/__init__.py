"""Turn a user's files into a model's input batch: images by MNIST's rules, feature rows from CSV or JSON.

What is refused (an `InputError`: one line naming the file and the fix, exit code 2):

* An image over `MAX_IMAGE_PIXELS` (70 megapixels: every common phone photo passes), told from
  the file's header before anything is decoded, so a small file claiming a huge size (a
  decompression bomb) costs nothing; downscale it. Also an animated or multi-page file (GIF,
  APNG, WebP, TIFF: save the frame you mean), except a phone's MPO JPEG, whose first frame is the
  photo; and a truncated, damaged or unreadable file.
* A row value the model cannot use: NaN or infinity, a number outside the input dtype's range
  (1e39 for float32, 300 or 2.5 for uint8), an empty cell or text. The message names the file,
  the row (a CSV line number, a JSON row from 1) and the column (from 1; for rows of more than
  one dimension, the element's 0-based index).

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

A model with 3 channels gets RGB resized to H x W. Rows: a CSV file (one example per line; a
first line with no number in it is a header) or JSON (a list of rows, or TF Serving's
{"instances": [...]}; numbers only, true/false count as 1/0).

Modules: `spec` (InputError; inputs are `registry.TensorSpec`), `images` (image files by MNIST's rules), `rows` (CSV and
JSON rows); their public names are importable from here.
"""

from modelzoo.inputs.images import MAX_IMAGE_PIXELS, grayscale_to_input, load_image, load_images
from modelzoo.inputs.rows import load_rows
from modelzoo.inputs.spec import InputError

__all__ = [
    "MAX_IMAGE_PIXELS",
    "InputError",
    "grayscale_to_input",
    "load_image",
    "load_images",
    "load_rows",
]
