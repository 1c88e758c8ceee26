"""The real preprocessing_fn, analysed and applied by TFT on real digits."""

import numpy as np

from tests.conftest import analyze_and_transform


def test_pixels_are_scaled_to_unit_range_by_the_training_min_and_max(digits, tmp_path):
    images, labels = digits
    transformed, _ = analyze_and_transform(images[:200], labels[:200], str(tmp_path))

    scaled = np.stack([row['image'] for row in transformed])
    assert scaled.shape == (200, 64)
    assert scaled.min() == 0.0
    assert scaled.max() == 1.0
    # The digits' pixels run 0..16, so the analyzers found exactly that range.
    np.testing.assert_allclose(scaled, images[:200] / 16.0, rtol=1e-6)


def test_label_passes_through_unchanged(digits, tmp_path):
    images, labels = digits
    transformed, _ = analyze_and_transform(images[:100], labels[:100], str(tmp_path))

    passed = np.array([int(np.asarray(row['label']).reshape(-1)[0]) for row in transformed])
    np.testing.assert_array_equal(passed, labels[:100])


def test_serving_without_label_uses_the_training_scale(transform_output):
    import tensorflow as tf

    layer = transform_output.transform_features_layer()
    out = layer({'image': tf.constant([[0] * 32 + [8] * 16 + [16] * 16], dtype=tf.int64)})

    assert 'label' not in out
    np.testing.assert_allclose(out['image'].numpy()[0, 30:34], [0.0, 0.0, 0.5, 0.5])
    assert out['image'].numpy().max() == 1.0
