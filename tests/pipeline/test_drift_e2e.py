"""The DriftValidator in a real pipeline run: a drifted span and skewed requests stop the run.

One data root holds two spans of real digits: span 1 as scikit-learn ships them, span 2 with
the images inverted (a camera that sees light ink on dark paper: every pixel still in 0..16, so
the schema passes it). The prediction log holds 100 requests with strokes twice as thick, as a
drawing page might send. The run stops before Transform; a rerun that accepts the reviewed
drift trains, and its summary says the drift was accepted.
"""

import os
import re

import numpy as np
import pytest
import tensorflow as tf

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from pipeline import serving_layout
from pipeline.config import PipelineConfig
from tests.helpers import run_pipeline

pytestmark = pytest.mark.e2e


def write_prediction_log(log_dir, images) -> None:
    """Writes requests as serving/prediction_log.py does: uncompressed TFRecords of Examples."""
    tf.io.gfile.makedirs(log_dir)
    path = os.path.join(log_dir, 'predictions-20260101T000000Z-1.tfrecord')
    with tf.io.TFRecordWriter(path) as log:
        for row in images.reshape(len(images), -1).tolist():
            features = {
                'image': tf.train.Feature(int64_list=tf.train.Int64List(value=row)),
                'predicted_class': tf.train.Feature(int64_list=tf.train.Int64List(value=[0])),
                'model_version': tf.train.Feature(int64_list=tf.train.Int64List(value=[1])),
                'source': tf.train.Feature(bytes_list=tf.train.BytesList(value=[b'page'])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=features))
            log.write(example.SerializeToString())


@pytest.fixture(scope='module')
def drifted(digits, tmp_path_factory):
    images, labels = digits
    base = tmp_path_factory.mktemp('drift')
    data_root, work = str(base / 'data'), base / 'work'
    write_span(DigitSet(images[:900].reshape(-1, 8, 8), labels[:900], 'digits'), data_root, 1)
    inverted = (16 - images[900:1500]).reshape(-1, 8, 8)
    write_span(DigitSet(inverted, labels[900:1500], 'inverted digits'), data_root, 2)
    config = PipelineConfig(work_root=str(work))
    write_prediction_log(config.prediction_log_dir, np.clip(images[1500:1600] * 2, 0, 16))

    code, output = run_pipeline(work, data_root)
    return {'code': code, 'output': output, 'work': work, 'data_root': data_root, 'config': config}


def test_drifted_span_stops_the_run_before_training_naming_distance_and_threshold(drifted):
    output = drifted['output']

    assert drifted['code'] == 1, output
    assert '2 drift or skew finding(s) stop this run before training' in output
    assert re.search(
        r"drift of feature 'image' from span 1 to span 2: Jensen-Shannon divergence 0\.1\d{3}, "
        r'above the threshold 0\.0100',
        output,
    )
    assert 'Decision: the run FAILED at DriftValidator' in output
    assert 'Transform: running' not in output
    assert not serving_layout.list_versions(drifted['config'].serving_model_dir)


def test_skewed_serving_requests_are_named_in_the_same_stop(drifted):
    assert (
        "skew of feature 'image' between training and 100 logged serving requests: "
        'Jensen-Shannon divergence 0.'
    ) in drifted['output']


def test_accepting_the_reviewed_drift_trains_and_the_summary_says_so(drifted):
    # The bound is lowered: this run is about accepting drift, not about accuracy.
    code, output = run_pipeline(
        drifted['work'], drifted['data_root'], '--accept-drift', '--min-accuracy=0.8'
    )

    assert code == 0, output
    assert 'Drift or skew ACCEPTED by --accept-drift; the run went on to train:' in output
    assert "  drift of feature 'image' from span 1 to span 2: Jensen-Shannon divergence" in output
    assert 'Decision: BLESSED and pushed to' in output
    assert len(serving_layout.list_versions(drifted['config'].serving_model_dir)) == 1
