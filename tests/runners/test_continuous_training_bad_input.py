"""Bad new spans are stopped before training with a message naming the problem; nothing served
changes.

Four of the five cases are caught by the runner's pre-flight check of the newest span, so they
run the real runner in this process and stop before any component. The fifth, pixels 0..255
where the schema expects 0..16 (a new camera), parses fine and is stopped by the anomalies gate
in a real pipeline run: `test_anomalous_span_stops_before_training_and_changes_nothing` in
test_local_runner_e2e.py. Drift between good-looking spans is in tests/pipeline/test_drift_e2e.py.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from dataprep.digit_set import DigitSet
from dataprep.spans import span_dir, write_span
from runners import local_runner
from tests.helpers import tree_digest


def _served_version(model_dir):
    """A served version folder, as the Pusher leaves one, whose bytes must not change."""
    version = model_dir / '1700000000'
    (version / 'variables').mkdir(parents=True)
    (version / 'saved_model.pb').write_bytes(b'graph')
    (version / 'variables' / 'variables.index').write_bytes(b'index')


def _write_records(data_root, records):
    folder = span_dir(data_root, 2)
    os.makedirs(folder)
    options = tf.io.TFRecordOptions(compression_type='GZIP')
    with tf.io.TFRecordWriter(os.path.join(folder, 'digits.tfrecord.gz'), options) as writer:
        for record in records:
            writer.write(record)


def _example(pixels, label):
    features = {
        'image': tf.train.Feature(int64_list=tf.train.Int64List(value=list(pixels))),
        'label': tf.train.Feature(int64_list=tf.train.Int64List(value=[int(label)])),
    }
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def _missing_pixel_column(images, labels, data_root):
    _write_records(
        data_root, [_example(row[:63], label) for row, label in zip(images, labels, strict=True)]
    )


def _empty_span(images, labels, data_root):
    _write_records(data_root, [])


def _one_class(images, labels, data_root):
    sevens = labels == 7
    write_span(DigitSet(images[sevens].reshape(-1, 8, 8), labels[sevens], 'sevens'), data_root, 2)


def _duplicates_only(images, labels, data_root):
    copies = DigitSet(
        np.repeat(images[:20], 30, axis=0).reshape(-1, 8, 8), np.repeat(labels[:20], 30), 'copies'
    )
    write_span(copies, data_root, 2)


@pytest.mark.parametrize(
    'write_bad_span, message',
    [
        (
            _missing_pixel_column,
            "span-2/digits.tfrecord.gz record 0 (0-based), feature 'image': 63 pixel values "
            'do not make a square image',
        ),
        (_empty_span, 'span-2: its 1 .tfrecord.gz files hold no records'),
        (
            _one_class,
            "span-2, feature 'label': all 61 records are digit 7; a span needs at least two "
            'digits to train and evaluate a classifier',
        ),
        (
            _duplicates_only,
            "span-2, feature 'image': 580 of 600 records (97%) repeat an image already in the "
            'span, only 20 distinct; at most 50% may repeat',
        ),
    ],
    ids=['missing pixel column', 'empty span', 'one class', 'duplicates only'],
)
def test_bad_new_span_stops_before_any_component_and_serving_is_unchanged(
    digits, tmp_path, caplog, write_bad_span, message
):
    images, labels = digits
    data_root = str(tmp_path / 'data')
    write_span(DigitSet(images[:300].reshape(-1, 8, 8), labels[:300], 'good digits'), data_root, 1)
    write_bad_span(images[300:900], labels[300:900], data_root)
    model_dir = tmp_path / 'work' / 'serving' / 'digits'
    _served_version(model_dir)
    before = tree_digest(model_dir)

    code = local_runner.main([f'--work-root={tmp_path / "work"}', f'--data-root={data_root}'])

    assert code == 2
    assert 'Bad input, nothing ran: ' in caplog.text
    assert message in caplog.text
    assert tree_digest(model_dir) == before
    assert not (tmp_path / 'work' / 'pipelines' / 'digits' / 'ImportExampleGen').exists()
