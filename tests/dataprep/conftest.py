"""Shared fixtures: small real digit sets cut from scikit-learn's digits."""

import numpy as np
import pytest

from dataprep.digit_set import DigitSet
from dataprep.sklearn_digits import load_sklearn_digits

NUM_SMALL = 50


@pytest.fixture(scope='session')
def all_digits() -> DigitSet:
    return load_sklearn_digits()


@pytest.fixture(scope='session')
def small_digits(all_digits: DigitSet) -> DigitSet:
    """The first 50 real 8x8 digits, all ten classes among them."""
    return DigitSet(
        images=all_digits.images[:NUM_SMALL].copy(),
        labels=all_digits.labels[:NUM_SMALL].copy(),
        source='first 50 scikit-learn digits',
    )


def assert_same_digits(actual: DigitSet, expected: DigitSet) -> None:
    assert actual.images.dtype == np.int64
    assert actual.labels.dtype == np.int64
    np.testing.assert_array_equal(actual.images, expected.images)
    np.testing.assert_array_equal(actual.labels, expected.labels)
