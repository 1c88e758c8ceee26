"""Degraded copies of real digits keep their label counts but not their labels."""

import numpy as np
import pytest

from dataprep.degrade import shuffle_labels
from dataprep.errors import DataError


def test_shuffling_a_third_keeps_the_counts_and_mislabels_about_three_in_ten(all_digits):
    degraded = shuffle_labels(all_digits, 1 / 3, seed=7)

    assert degraded.label_counts() == all_digits.label_counts()
    np.testing.assert_array_equal(degraded.images, all_digits.images)
    wrong = np.mean(degraded.labels != all_digits.labels)
    assert 0.25 < wrong < 1 / 3
    assert degraded.source == 'scikit-learn digits with 33% of labels shuffled'


def test_the_same_seed_degrades_the_same_way(all_digits):
    first = shuffle_labels(all_digits, 0.5, seed=3)
    again = shuffle_labels(all_digits, 0.5, seed=3)

    np.testing.assert_array_equal(first.labels, again.labels)


def test_a_fraction_outside_zero_to_one_is_refused(small_digits):
    with pytest.raises(DataError, match='must lie in \\[0, 1\\], got 1.5'):
        shuffle_labels(small_digits, 1.5)
