"""In-memory digit images with their labels, the common currency of every importer.

Each importer (scikit-learn, IDX, CSV) turns its source into a `DigitSet`, and `spans.write_span`
turns a `DigitSet` into a span of the data root. Validation happens once, here, so a span never
holds an image that is not square, a negative pixel or a label outside 0..9.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from dataprep.errors import DataError
from preprocessing.features import NUM_CLASSES


@dataclasses.dataclass(frozen=True, eq=False)
class DigitSet:
    """Square grey-scale digit images and their labels.

    Pixel values keep the range of their source (0..16 for scikit-learn digits, 0..255 for
    MNIST); ink is high and the background is 0. The arrays are converted to int64 but not copied
    when they already are int64.

    Attributes:
        images: Array of shape (N, H, W) with H == W, int64, values >= 0.
        labels: Array of shape (N,), int64, values in 0..9.
        source: Where the data came from (a file name or a data set name), used in messages.
    """

    images: np.ndarray
    labels: np.ndarray
    source: str

    def __post_init__(self) -> None:
        """Converts the arrays to int64 and raises DataError if they are not valid digits."""
        object.__setattr__(self, 'images', _as_int64(self.images, 'images', self.source))
        object.__setattr__(self, 'labels', _as_int64(self.labels, 'labels', self.source))
        self._check()

    def _check(self) -> None:
        images, labels, source = self.images, self.labels, self.source
        if images.ndim != 3:
            raise DataError(f'{source}: images must have shape (N, H, W), got {images.shape}')
        if images.shape[1] != images.shape[2]:
            raise DataError(
                f'{source}: images are {images.shape[1]}x{images.shape[2]} pixels; '
                'only square images are supported'
            )
        if images.shape[0] == 0:
            raise DataError(f'{source}: no images')
        if images.shape[1] == 0:
            raise DataError(f'{source}: images have no pixels (shape {images.shape})')
        if labels.ndim != 1:
            raise DataError(f'{source}: labels must have shape (N,), got {labels.shape}')
        if labels.shape[0] != images.shape[0]:
            raise DataError(f'{source}: {images.shape[0]:,} images but {labels.shape[0]:,} labels')

        bad_labels = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
        if bad_labels.size:
            first = bad_labels[0]
            raise DataError(
                f'{source}: example {first} (0-based) has label {labels[first]}; '
                f'labels must lie in 0..{NUM_CLASSES - 1}'
            )
        negative = np.flatnonzero(images.reshape(images.shape[0], -1).min(axis=1) < 0)
        if negative.size:
            first = negative[0]
            raise DataError(
                f'{source}: example {first} (0-based) has negative pixel value '
                f'{images[first].min()}; pixels must be >= 0'
            )

    @property
    def num_examples(self) -> int:
        """Number of images (and labels)."""
        return int(self.images.shape[0])

    @property
    def image_size(self) -> int:
        """Side length of the square images in pixels."""
        return int(self.images.shape[1])

    @property
    def num_pixels(self) -> int:
        """Pixels per image, image_size squared."""
        return self.image_size * self.image_size

    def label_counts(self) -> dict[int, int]:
        """Counts the examples of each label.

        Returns:
            Mapping from each label present to its number of examples, in label order.
        """
        values, counts = np.unique(self.labels, return_counts=True)
        return {int(value): int(count) for value, count in zip(values, counts, strict=True)}


def _as_int64(array: np.ndarray, name: str, source: str) -> np.ndarray:
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.integer):
        raise DataError(f'{source}: {name} must hold integers, got dtype {array.dtype}')
    return array.astype(np.int64, copy=False)
