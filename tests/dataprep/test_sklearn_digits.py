import numpy as np
from sklearn import datasets


def test_sklearn_digits_are_1797_integer_images_of_8x8_in_0_to_16(all_digits):
    assert all_digits.num_examples == 1797
    assert all_digits.image_size == 8
    assert all_digits.images.dtype == np.int64
    assert all_digits.images.min() == 0
    assert all_digits.images.max() == 16
    assert sorted(all_digits.label_counts()) == list(range(10))


def test_sklearn_digits_keep_the_original_pixel_values(all_digits):
    original = datasets.load_digits()

    np.testing.assert_array_equal(all_digits.images, original.images)
    np.testing.assert_array_equal(all_digits.labels, original.target)
