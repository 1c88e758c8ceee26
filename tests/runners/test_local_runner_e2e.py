"""The local runner end to end, on real digits: blessed and pushed, gated, cached, stopped.

Each scenario runs `python -m runners.local_runner` in a subprocess, as a person would, on a
data root of 1,500 real scikit-learn digits; the other 297 digits are held out from every run.
"""

import os

import numpy as np
import pytest
import tensorflow as tf

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from pipeline import serving_layout
from tests.helpers import run_pipeline, tree_digest

pytestmark = pytest.mark.e2e

NUM_PIPELINE_DIGITS = 1500
MIN_ACCURACY = 0.9


@pytest.fixture(scope='module')
def first_run(digits, tmp_path_factory):
    images, labels = digits
    base = tmp_path_factory.mktemp('e2e')
    data_root = str(base / 'data')
    pipeline_digits = DigitSet(
        images=images[:NUM_PIPELINE_DIGITS].reshape(-1, 8, 8),
        labels=labels[:NUM_PIPELINE_DIGITS],
        source='first 1,500 scikit-learn digits',
    )
    write_span(pipeline_digits, data_root, 1)
    code, output = run_pipeline(base / 'work', data_root)
    return {
        'code': code,
        'output': output,
        'work': base / 'work',
        'data_root': data_root,
        'model_dir': base / 'work' / 'serving' / 'digits',
    }


def test_first_run_is_blessed_and_pushes_one_version(first_run):
    assert first_run['code'] == 0, first_run['output']
    assert 'Decision: BLESSED and pushed to' in first_run['output']
    assert 'No model was served when this candidate was trained' in first_run['output']
    versions = serving_layout.list_versions(str(first_run['model_dir']))
    assert len(versions) == 1
    version_dir = first_run['model_dir'] / str(versions[0])
    assert (version_dir / 'saved_model.pb').is_file()
    assert (version_dir / 'variables' / 'variables.index').is_file()
    assert (version_dir / 'assets' / 'image_spec.json').is_file()


def test_run_prints_progress_and_a_summary_with_numbers(first_run):
    output = first_run['output']

    assert '[1/12]' in output and '[12/12] Pusher: done' in output
    assert 'Data: ' in output and ' train, ' in output and ' eval rows.' in output
    assert 'Anomalies: none against the curated schema.' in output
    assert 'Accuracy per class: 0: ' in output


def test_pushed_model_classifies_held_out_digits_above_the_bound(first_run, digits):
    images, labels = digits
    version = serving_layout.latest_version(str(first_run['model_dir']))
    loaded = tf.saved_model.load(str(first_run['model_dir'] / str(version)))

    held_out = tf.constant(images[NUM_PIPELINE_DIGITS:], tf.float32)
    probabilities = loaded.signatures['serving_pixels'](image=held_out)['probabilities'].numpy()

    accuracy = np.mean(probabilities.argmax(axis=1) == labels[NUM_PIPELINE_DIGITS:])
    assert accuracy > MIN_ACCURACY
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_unreachable_bound_is_not_blessed_and_leaves_the_push_intact(first_run):
    before = tree_digest(first_run['model_dir'])

    code, output = run_pipeline(first_run['work'], first_run['data_root'], '--min-accuracy=0.9999')

    assert code == 0, output
    assert 'Decision: NOT BLESSED (accuracy 0.' in output
    assert 'is below the bound 0.9999' in output
    assert 'Nothing pushed; serving stays at version' in output
    assert tree_digest(first_run['model_dir']) == before


def test_unchanged_rerun_is_cached_and_pushes_nothing_new(first_run):
    before = tree_digest(first_run['model_dir'])

    code, output = run_pipeline(first_run['work'], first_run['data_root'])

    assert code == 0, output
    assert 'Trainer: cached' in output
    assert tree_digest(first_run['model_dir']) == before


def test_anomalous_span_stops_before_training_and_changes_nothing(first_run, digits, tmp_path):
    images, labels = digits
    data_root = str(tmp_path / 'data')
    # A new camera: the same digits, but pixel values 0..255 where the schema expects 0..16.
    rescaled = DigitSet(
        images=(images[:400] * 16).reshape(-1, 8, 8), labels=labels[:400], source='0..255 digits'
    )
    write_span(rescaled, data_root, 1)
    before = tree_digest(first_run['model_dir'])

    code, output = run_pipeline(first_run['work'], data_root)

    assert code == 1, output
    assert "feature 'image'" in output
    assert 'data anomalies against the curated schema stop this run before training' in output
    assert 'Transform' not in output.split('AnomaliesGate: running')[-1].split('Decision')[0]
    assert 'Decision: the run FAILED at AnomaliesGate' in output
    assert tree_digest(first_run['model_dir']) == before


@pytest.mark.parametrize(
    'make_root, expected',
    [
        (lambda root: os.makedirs(root), 'has no span-'),
        (lambda root: os.makedirs(os.path.join(root, 'span-1')), 'span-1'),
    ],
)
def test_bad_data_root_stops_before_any_component_with_exit_2(tmp_path, make_root, expected):
    data_root = str(tmp_path / 'data')
    make_root(data_root)

    code, output = run_pipeline(tmp_path / 'work', data_root)

    assert code == 2, output
    assert 'Bad input, nothing ran:' in output
    assert expected in output
    assert not (tmp_path / 'work' / 'serving').exists()


@pytest.mark.parametrize(
    'flags, expected',
    [
        (['--min-accuracy=2'], 'min_accuracy must lie in [0, 1], got 2.0'),
        (['--train-steps=0'], 'train_steps must be at least 1, got 0'),
        (['--beam-num-workers=-3'], 'beam_num_workers must be 0 (one per CPU) or more, got -3'),
        (['--dataset=nosuch'], 'no curated schema for data set'),
    ],
)
def test_bad_settings_stop_with_exit_2_and_no_traceback(first_run, tmp_path, flags, expected):
    code, output = run_pipeline(tmp_path / 'work', first_run['data_root'], *flags)

    assert code == 2, output
    assert expected in output
    assert 'Traceback' not in output


def test_an_unparseable_schema_stops_before_any_component(first_run, tmp_path):
    schema_dir = tmp_path / 'schema'
    schema_dir.mkdir()
    (schema_dir / 'schema.pbtxt').write_text('feature { name: "image" type: BOGUS }\n')

    code, output = run_pipeline(
        tmp_path / 'work', first_run['data_root'], f'--schema-dir={schema_dir}'
    )

    assert code == 2, output
    assert 'schema.pbtxt: not a valid schema' in output
    assert 'BOGUS' in output
    assert not (tmp_path / 'work' / 'pipelines').exists()
