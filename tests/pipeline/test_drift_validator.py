"""Drift and skew checks on real digits against the checked-in schema's thresholds.

Statistics are computed in memory with TFDV from real scikit-learn digits; the comparisons are
the ones the DriftValidator component runs (the component itself runs in test_drift_e2e.py).
"""

import os
import re

import numpy as np
import pyarrow as pa
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_data_validation.statistics import stats_impl
from tfx.types import standard_artifacts

from dataprep.degrade import shuffle_labels
from dataprep.digit_set import DigitSet
from pipeline.components import drift_validator as dv
from pipeline.config import PipelineConfig, load_config
from pipeline.pipeline import create_pipeline
from tests.conftest import DIGITS_SCHEMA

SCHEMA = tfdv.load_schema_text(DIGITS_SCHEMA)


def _statistics(images, labels=None):
    """TFDV statistics of digit rows, computed with the curated schema as the component does."""
    columns = {'image': pa.array(images.reshape(len(images), -1).tolist(), pa.list_(pa.int64()))}
    if labels is not None:
        columns['label'] = pa.array([[int(label)] for label in labels], pa.list_(pa.int64()))
    options = tfdv.StatsOptions(schema=SCHEMA)
    return stats_impl.generate_statistics_in_memory(pa.RecordBatch.from_pydict(columns), options)


def _properties(serving_rows=0):
    return {
        dv.CURRENT_SPAN_PROPERTY: 2,
        dv.PREVIOUS_SPAN_PROPERTY: 1,
        dv.SERVING_ROWS_PROPERTY: serving_rows,
        dv.SERVING_COMPARED_PROPERTY: int(serving_rows > 0),
        dv.ACCEPTED_PROPERTY: 0,
    }


def _drift_problems(previous, current):
    results = dv.validate_drift_and_skew(SCHEMA, current=current, previous=previous)
    return dv.problems(results, _properties())


@pytest.fixture(scope='module')
def spans(digits):
    """The 1,797 real digits as three consecutive spans, as `dataprep digits --spans 3` writes."""
    images, labels = digits
    bounds = [0, 599, 1198, 1797]
    return [(images[a:b], labels[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def test_good_spans_of_real_digits_stay_within_the_thresholds(spans):
    statistics = [_statistics(*span) for span in spans]

    for previous, current in zip(statistics[:-1], statistics[1:], strict=True):
        results = dv.validate_drift_and_skew(SCHEMA, current=current, previous=previous)
        measured, _ = dv.findings(results, _properties())
        assert {(c.feature, c.measure) for c in measured} == {
            ('image', 'Jensen-Shannon divergence'),
            ('label', 'L-infinity distance'),
        }
        assert not [c for c in measured if c.exceeded], [str(c) for c in measured]


def test_inverted_images_are_drift_with_feature_distance_and_threshold_named(spans):
    (images, labels), (new_images, new_labels) = spans[0], spans[1]

    found = _drift_problems(_statistics(images, labels), _statistics(16 - new_images, new_labels))

    assert len(found) == 1
    assert re.fullmatch(
        r"drift of feature 'image' from span 1 to span 2: Jensen-Shannon divergence "
        r'0\.1[6-9]\d\d, above the threshold 0\.0100',
        found[0],
    ), found


def test_a_span_of_one_digit_is_label_drift(spans):
    (images, labels), (new_images, new_labels) = spans[0], spans[1]
    sevens = new_labels == 7

    found = _drift_problems(
        _statistics(images, labels), _statistics(new_images[sevens], new_labels[sevens])
    )

    # Sevens are 59 of the 599 digits of span 1 (0.0985) and all of the new span.
    assert found == [
        "drift of feature 'label' from span 1 to span 2: L-infinity distance 0.9015, above the "
        'threshold 0.1000'
    ]


def test_shuffled_labels_pass_the_drift_check_and_are_left_to_the_evaluator(spans):
    (images, labels), (new_images, new_labels) = spans[0], spans[1]
    degraded = shuffle_labels(
        DigitSet(images=new_images.reshape(-1, 8, 8), labels=new_labels, source='t'), 1 / 3
    )

    found = _drift_problems(_statistics(images, labels), _statistics(new_images, degraded.labels))

    assert found == []


def test_serving_requests_like_the_training_data_are_not_skew(digits):
    images, labels = digits
    training = _statistics(images[:1200], labels[:1200])

    results = dv.validate_drift_and_skew(
        SCHEMA, current=training, training=training, serving=_statistics(images[1200:1300])
    )

    assert dv.problems(results, _properties(serving_rows=100)) == []
    # The label is absent from requests, as the schema's SERVING environment allows.
    assert not results[dv.SERVING].anomaly_info
    (comparison,) = dv.findings(results, _properties(100))[0]
    assert comparison.value < comparison.threshold / 5


def test_thick_strokes_from_a_drawing_page_are_skew(digits):
    images, labels = digits
    training = _statistics(images[:1200], labels[:1200])
    thick = np.clip(images[1200:1300] * 2, 0, 16)

    results = dv.validate_drift_and_skew(
        SCHEMA, current=training, training=training, serving=_statistics(thick)
    )

    (found,) = dv.problems(results, _properties(serving_rows=100))
    assert found.startswith(
        "skew of feature 'image' between training and 100 logged serving requests: "
        'Jensen-Shannon divergence 0.'
    )
    assert found.endswith('above the threshold 0.0100')


def test_summary_lines_say_what_was_compared_and_that_drift_was_accepted(spans, tmp_path):
    (images, labels), (new_images, new_labels) = spans[0], spans[1]
    results = dv.validate_drift_and_skew(
        SCHEMA,
        current=_statistics(16 - new_images, new_labels),
        previous=_statistics(images, labels),
    )
    dv.write_results(str(tmp_path), results)
    properties = dict(_properties(serving_rows=7), **{dv.SERVING_COMPARED_PROPERTY: 0})

    lines = dv.summary_lines(str(tmp_path), dict(properties, **{dv.ACCEPTED_PROPERTY: 1}))

    assert lines[0] == 'Drift or skew ACCEPTED by --accept-drift; the run went on to train:'
    assert 'Skew: 7 logged serving requests, too few to compare with training.' in lines
    assert any("drift of feature 'image' from span 1 to span 2" in line for line in lines)
    assert any(
        "feature 'label'" in line and 'within the threshold 0.1000' in line for line in lines
    )


def test_first_span_has_no_previous_span_and_later_ones_the_highest_below(tmp_path):
    for name in ('span-1', 'span-3', 'span-7'):
        (tmp_path / name).mkdir()

    assert dv.previous_span(str(tmp_path), 1) is None
    assert dv.previous_span(str(tmp_path), 7) == 3


def _log_record(pixels):
    feature = tf.train.Feature(int64_list=tf.train.Int64List(value=pixels))
    return tf.train.Example(
        features=tf.train.Features(feature={'image': feature})
    ).SerializeToString()


def test_prediction_log_is_read_across_files_even_while_a_record_is_half_written(tmp_path):
    log_dir = tmp_path / 'prediction_log'
    log_dir.mkdir()
    with tf.io.TFRecordWriter(str(log_dir / 'predictions-a-1.tfrecord')) as writer:
        writer.write(_log_record([1] * 64))
    with tf.io.TFRecordWriter(str(log_dir / 'predictions-b-2.tfrecord')) as writer:
        writer.write(_log_record([2] * 64))
        writer.write(_log_record([3] * 64))
    whole = (log_dir / 'predictions-b-2.tfrecord').read_bytes()
    (log_dir / 'predictions-b-2.tfrecord').write_bytes(whole[: len(whole) - 20])
    (log_dir / 'notes.txt').write_text('not a log file')

    records = dv.read_prediction_log(str(log_dir))

    assert [
        tf.train.Example.FromString(r).features.feature['image'].int64_list.value[0]
        for r in records
    ] == [1, 2]
    assert dv.read_prediction_log(os.path.join(tmp_path, 'absent')) == []


def test_validator_stands_between_validation_and_transform_with_no_resolver(tmp_path):
    config = PipelineConfig(work_root=str(tmp_path), data_root=str(tmp_path / 'data'))
    nodes = {node.id: node for node in create_pipeline(config).components}

    validator = nodes['DriftValidator']
    assert {node.id for node in validator.upstream_nodes} == {
        'ImportExampleGen',
        'StatisticsGen',
        'CuratedSchema',
        'AnomaliesGate',
    }
    assert 'DriftValidator' in {node.id for node in nodes['Transform'].upstream_nodes}
    assert validator.exec_properties['prediction_log_dir'] == config.prediction_log_dir
    assert validator.exec_properties['accept_drift'] is False


def test_accept_drift_is_a_bare_flag_and_other_switches_still_take_a_value():
    assert load_config(['--accept-drift']).accept_drift is True
    assert load_config(['--accept-drift', 'false']).accept_drift is False
    assert load_config([], env={'DIGITS_ACCEPT_DRIFT': 'yes'}).accept_drift is True
    assert load_config(['--enable-cache', 'false']).enable_cache is False


def test_span_is_read_where_either_orchestrator_records_it():
    local = standard_artifacts.Examples()
    local.set_int_custom_property('span', 4)
    kubeflow = standard_artifacts.Examples()
    kubeflow.span = 5

    assert (dv.resolved_span(local), dv.resolved_span(kubeflow)) == (4, 5)
