import numpy as np
import pytest

from dataprep.digit_set import DigitSet
from dataprep.errors import DataError


def _images(count: int = 3, size: int = 4) -> np.ndarray:
    return np.arange(count * size * size).reshape(count, size, size) % 17


def test_digit_set_reports_size_count_and_label_counts():
    digits = DigitSet(images=_images(4, 5), labels=np.array([3, 1, 3, 0]), source='test')

    assert digits.num_examples == 4
    assert digits.image_size == 5
    assert digits.num_pixels == 25
    assert digits.label_counts() == {0: 1, 1: 1, 3: 2}


def test_digit_set_converts_smaller_integer_types_to_int64():
    digits = DigitSet(
        images=_images().astype(np.uint8), labels=np.array([1, 2, 3], np.int32), source='test'
    )

    assert digits.images.dtype == np.int64
    assert digits.labels.dtype == np.int64


@pytest.mark.parametrize(
    ('images', 'labels', 'problem'),
    [
        (np.zeros((3, 4, 5), np.int64), [1, 2, 3], '4x5 pixels; only square images'),
        (np.zeros((3, 16), np.int64), [1, 2, 3], 'shape (N, H, W)'),
        (np.zeros((0, 4, 4), np.int64), np.zeros(0, np.int64), 'no images'),
        (_images(), [1, 2], '3 images but 2 labels'),
        (_images(), [1, 10, 2], 'example 1 (0-based) has label 10'),
        (-_images(), [1, 2, 3], 'example 0 (0-based) has negative pixel value -15'),
        (_images().astype(np.float32), [1, 2, 3], 'must hold integers'),
    ],
)
def test_invalid_digit_set_raises_data_error_naming_the_source(images, labels, problem):
    with pytest.raises(DataError) as error:
        DigitSet(images=images, labels=np.array(labels), source='my/source.csv')

    assert str(error.value).startswith('my/source.csv: ')
    assert problem in str(error.value)
