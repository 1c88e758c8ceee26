"""Turns a picture of a digit into the pixel row the model was trained on.

This is the only place where a drawing or an uploaded image becomes model input, and it runs on
the server, so the page and any other client cannot drift away from the training data. The
model's `assets/image_spec.json` (`models.image_spec.ImageSpec`) says what that data looks like:
an H x W grid, background at `pixel_min`, ink at up to `pixel_max`, rows top to bottom.

The digit is cut to its ink, scaled into a box and centred the way its data set was made:

- small grids such as scikit-learn's 8x8 digits (UCI optdigits: 32x32 bitmaps whose 4x4 blocks
  were counted) have the digit's height fill the grid, centred by its bounding box;
- larger grids such as MNIST's 28x28 fit the digit into a 20x20 box, anti-aliased, and put its
  centre of mass at the centre of the grid.

The digit is drawn at four times the grid's resolution and then averaged in 4x4 blocks, which is
how the 8x8 digits were counted and keeps sub-pixel placement for MNIST.
"""

from __future__ import annotations

import base64
import binascii
import io

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from models.image_spec import ImageSpec
from serving.errors import RequestError

# Grids up to this side are framed like the UCI digits, larger ones like MNIST.
_SMALL_GRID = 16
# MNIST puts the digit into a 20x20 box inside its 28x28 grid.
_MNIST_BOX_FRACTION = 20 / 28
# Drawing resolution relative to the grid; 4 matches the UCI digits' 4x4 counting blocks.
_SUPERSAMPLE = 4
# Ink below this share of the strongest stroke counts as background; it lies under 1/16, the
# faintest ink level of the 8x8 digits, and above the noise of a clean scan.
_NOISE_FLOOR = 0.05
# An image whose strongest ink differs less than this from its background holds no digit.
_MIN_CONTRAST = 0.1
# Larger images are refused before decoding; a phone photo (12 megapixels) still fits.
_MAX_IMAGE_PIXELS = 4096 * 4096


def decode_data_url(data_url: str) -> Image.Image:
    """Decodes a `data:image/...;base64,` URL, as a canvas or a file reader makes it.

    Args:
        data_url: The URL; any image format Pillow reads is accepted.

    Returns:
        The decoded image, upright according to its EXIF orientation.

    Raises:
        RequestError: The text is no base64 image data URL, or no readable image.
    """
    header, separator, payload = data_url.partition(',')
    if not separator or not header.startswith('data:image/') or not header.endswith(';base64'):
        raise RequestError('image must be a data URL like "data:image/png;base64,..."')
    try:
        raw = base64.b64decode(payload, validate=True)
    except binascii.Error as error:
        raise RequestError(f'image data URL holds invalid base64: {error}') from error
    try:
        image = Image.open(io.BytesIO(raw))
        if image.width * image.height > _MAX_IMAGE_PIXELS:
            raise RequestError(
                f'image of {image.width}x{image.height} pixels is too large; '
                f'send at most {_MAX_IMAGE_PIXELS:,} pixels'
            )
        image.load()
        return ImageOps.exif_transpose(image)
    except UnidentifiedImageError as error:
        raise RequestError(
            'image data URL holds no readable image: send a PNG, JPEG, GIF, BMP or WebP'
        ) from error
    # Pillow reports damaged files with any of these, depending on the format and the damage.
    except (Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        raise RequestError(f'image data URL holds a damaged image: {error}') from error


def to_model_pixels(image: Image.Image, spec: ImageSpec) -> np.ndarray:
    """Converts a picture of one digit into the model's input row.

    Args:
        image: Any Pillow image: dark ink on light paper, light ink on a dark ground, or ink on
            a transparent ground.
        spec: The model's image spec.

    Returns:
        float32 array of `spec.num_pixels` values in [pixel_min, pixel_max], row-major, top row
        first, background at pixel_min.

    Raises:
        RequestError: The image holds no ink.
    """
    ink = _ink_map(image)
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    digit = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    grid = _frame(digit, spec)
    cells = grid.reshape(spec.height, _SUPERSAMPLE, spec.width, _SUPERSAMPLE).mean(axis=(1, 3))
    pixels = spec.pixel_min + cells * (spec.pixel_max - spec.pixel_min)
    return pixels.astype(np.float32).reshape(-1)


def _ink_map(image: Image.Image) -> np.ndarray:
    """Ink strength in [0, 1] per pixel, background 0, whatever the picture's polarity."""
    rgba = np.asarray(image.convert('RGBA'), dtype=np.float32) / 255.0
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    alpha = rgba[..., 3]

    # A transparent ground is replaced by the opposite of the ink's own brightness.
    if alpha.min() < 1.0:
        covered = float(alpha.sum())
        ink_brightness = float((luminance * alpha).sum()) / covered if covered else 0.0
        ground = 1.0 if ink_brightness < 0.5 else 0.0
        luminance = luminance * alpha + ground * (1.0 - alpha)

    # The outermost ring of pixels is mostly background, even where a stroke touches it.
    border = np.concatenate([luminance[0], luminance[-1], luminance[:, 0], luminance[:, -1]])
    background = float(np.median(border))
    ink = background - luminance if background >= 0.5 else luminance - background
    ink = np.clip(ink, 0.0, None)

    peak = float(ink.max())
    if peak < _MIN_CONTRAST:
        raise RequestError('the image holds no digit: draw or upload one with visible ink')
    ink /= peak
    ink[ink < _NOISE_FLOOR] = 0.0
    return ink


def _frame(digit: np.ndarray, spec: ImageSpec) -> np.ndarray:
    """Scales the cut-out digit into its box on a supersampled grid and centres it."""
    grid_h, grid_w = spec.height * _SUPERSAMPLE, spec.width * _SUPERSAMPLE
    small = spec.height <= _SMALL_GRID and spec.width <= _SMALL_GRID
    box_fraction = 1.0 if small else _MNIST_BOX_FRACTION
    scale = min(grid_h * box_fraction / digit.shape[0], grid_w * box_fraction / digit.shape[1])
    size = (max(1, round(digit.shape[1] * scale)), max(1, round(digit.shape[0] * scale)))
    scaled = np.asarray(Image.fromarray(digit).resize(size, Image.Resampling.BOX))
    scaled = np.clip(scaled, 0.0, 1.0)

    if small:
        top = round((grid_h - scaled.shape[0]) / 2)
        left = round((grid_w - scaled.shape[1]) / 2)
    else:
        ys, xs = np.indices(scaled.shape)
        mass = float(scaled.sum())
        top = round(grid_h / 2 - float((ys * scaled).sum()) / mass - 0.5)
        left = round(grid_w / 2 - float((xs * scaled).sum()) / mass - 0.5)

    grid = np.zeros((grid_h, grid_w), dtype=np.float32)
    src_top, src_left = max(0, -top), max(0, -left)
    dst_top, dst_left = max(0, top), max(0, left)
    rows = min(scaled.shape[0] - src_top, grid_h - dst_top)
    cols = min(scaled.shape[1] - src_left, grid_w - dst_left)
    grid[dst_top : dst_top + rows, dst_left : dst_left + cols] = scaled[
        src_top : src_top + rows, src_left : src_left + cols
    ]
    return grid
