"""Reads a folder of labelled digit pictures: `<folder>/<digit>/<name>.png`, one folder per digit.

Pictures from a scanner, a phone or a drawing program differ from the data a model was trained
on in size, colour, background and brightness. Each picture is brought to the data root's form:
put on white paper if it is transparent, converted to grayscale, inverted when its background
is light (so ink is high, as in the digits and MNIST), resized to the data root's square image
size by area averaging, and stretched so its background is 0 and its strongest ink is the data
root's largest pixel value.
"""

from __future__ import annotations

import os
import time

import numpy as np
from absl import logging
from PIL import Image, UnidentifiedImageError

from dataprep.digit_set import DigitSet
from dataprep.errors import DataError
from preprocessing.features import NUM_CLASSES

# Picture files read, by lower-case extension; other files are named in a warning.
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.gif')
# A picture whose border is brighter than this (on 0..255) has a light background.
_LIGHT_BACKGROUND = 127


def to_digit_image(picture: Image.Image, image_size: int, pixel_max: int) -> np.ndarray:
    """Brings one picture to the data root's form.

    Args:
        picture: Any picture Pillow opened.
        image_size: Side length of the data root's square images.
        pixel_max: The data root's largest pixel value (16 for the digits, 255 for MNIST).

    Returns:
        An int64 array of shape (image_size, image_size), ink high, background 0, strongest ink
        pixel_max; all zeros for a blank picture.
    """
    if picture.mode in ('RGBA', 'LA', 'PA') or 'transparency' in picture.info:
        # Drawing programs and browser canvases leave the paper transparent: make it white.
        paper = Image.new('RGBA', picture.size, 'white')
        picture = Image.alpha_composite(paper, picture.convert('RGBA'))
    gray = np.asarray(picture.convert('L'), dtype=np.float64)
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    if border.mean() > _LIGHT_BACKGROUND:
        gray = 255.0 - gray

    resized = Image.fromarray(gray.astype(np.uint8)).resize(
        (image_size, image_size), Image.Resampling.BOX
    )
    small = np.asarray(resized, dtype=np.float64)
    low, high = small.min(), small.max()
    if high == low:
        return np.zeros((image_size, image_size), dtype=np.int64)
    return np.rint((small - low) / (high - low) * pixel_max).astype(np.int64)


def read_image_folder(folder: str, image_size: int, pixel_max: int) -> DigitSet:
    """Reads every picture under `<folder>/<digit>/`, labelled by its folder's name.

    Args:
        folder: The folder holding one sub-folder per digit, named 0 to 9.
        image_size: Side length of the data root's square images.
        pixel_max: The data root's largest pixel value.

    Returns:
        The pictures in the data root's form, in digit then file name order, as a DigitSet
        whose source is folder.

    Raises:
        DataError: The folder is missing, holds no digit folders or no pictures, or a picture
            cannot be read or is blank.
    """
    start = time.monotonic()
    if not os.path.isdir(folder):
        raise DataError(f'{folder}: not a folder; expected one sub-folder per digit, 0 to 9')
    digit_folders = sorted(
        name
        for name in os.listdir(folder)
        if name.isascii()
        and name.isdigit()
        and int(name) < NUM_CLASSES
        and os.path.isdir(os.path.join(folder, name))
    )
    others = sorted(set(os.listdir(folder)) - set(digit_folders))
    if others:
        logging.warning('%s: ignoring %s; only folders named 0 to 9 are read', folder, others)
    if not digit_folders:
        raise DataError(f'{folder}: no digit folders; expected sub-folders named 0 to 9')

    images, labels = [], []
    for name in digit_folders:
        for path in _pictures(os.path.join(folder, name)):
            image = to_digit_image(_open(path), image_size, pixel_max)
            if not image.any():
                raise DataError(f'{path}: a blank picture, no ink to learn digit {name} from')
            images.append(image)
            labels.append(int(name))
    if not images:
        raise DataError(
            f'{folder}: its digit folders hold no pictures ({", ".join(IMAGE_EXTENSIONS)})'
        )

    digits = DigitSet(images=np.stack(images), labels=np.array(labels), source=folder)
    logging.info(
        'Read %s pictures of %d digits from %s as %dx%d images of 0..%d in %.1f s',
        f'{digits.num_examples:,}',
        len(digits.label_counts()),
        folder,
        image_size,
        image_size,
        pixel_max,
        time.monotonic() - start,
    )
    return digits


def _pictures(digit_folder: str) -> list[str]:
    """The picture files of one digit folder, sorted; other files are named in a warning."""
    names = sorted(os.listdir(digit_folder))
    pictures = [name for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
    skipped = sorted(set(names) - set(pictures))
    if skipped:
        logging.warning('%s: ignoring %d file(s) that are not pictures', digit_folder, len(skipped))
    return [os.path.join(digit_folder, name) for name in pictures]


def _open(path: str) -> Image.Image:
    try:
        with Image.open(path) as picture:
            picture.load()
            return picture
    except (OSError, UnidentifiedImageError) as error:
        raise DataError(f'{path}: not a readable picture ({error})') from None
