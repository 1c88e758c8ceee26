"""Loads the 1,797 real 8x8 digits that ship with scikit-learn, so a first run needs no download."""

from __future__ import annotations

import numpy as np
from absl import logging
from sklearn import datasets

from dataprep.digit_set import DigitSet

SOURCE = 'scikit-learn digits'


def load_sklearn_digits() -> DigitSet:
    """Loads scikit-learn's digits as integer images.

    scikit-learn stores the pixel values 0..16 as floats; they are whole numbers, so converting
    them to int64 loses nothing.

    Returns:
        A DigitSet of 1,797 images of 8x8 pixels with values 0..16.
    """
    bunch = datasets.load_digits()
    images = bunch.images.astype(np.int64)
    digits = DigitSet(images=images, labels=bunch.target.astype(np.int64), source=SOURCE)
    logging.info(
        'Loaded %s %s of %dx%d pixels',
        f'{digits.num_examples:,}',
        SOURCE,
        digits.image_size,
        digits.image_size,
    )
    return digits
