"""The compiled spec, executed task by task as the Kubeflow backend would, on real digits.

The launcher stand-in (kfp_stand_in) runs each task's container command here with the executor
input the backend's driver and launcher would build. The first run, on span 1 (600 real
scikit-learn digits), must end as a local run does, with a blessed model pushed. The second run
finds span 2 (the next 600 digits), trains longer through the `train_args` run-time parameter,
is judged against the served version, and pushes again only if blessed.
"""

import os

import numpy as np
import pytest
import tensorflow as tf
from tfx.proto import trainer_pb2
from tfx.utils import proto_utils

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from kfp_stand_in import launcher
from pipeline import serving_layout
from pipeline.config import PipelineConfig
from runners import kubeflow_runner
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.e2e

SPAN_SIZE = 600
FIRST_STEPS = 100
SECOND_STEPS = 300
# Digits 1,200 on come from writers no span holds; 480 training rows reach about 0.88 there.
HELD_OUT_MIN_ACCURACY = 0.8


def _write(digits, data_root, span):
    images, labels = digits
    rows = slice((span - 1) * SPAN_SIZE, span * SPAN_SIZE)
    write_span(
        DigitSet(images[rows].reshape(-1, 8, 8), labels[rows], f'span {span}'), data_root, span
    )


# The image's working directory holds the project; TFX's public API is imported early to save
# time, as most executors of this pipeline import it.
INTERPRETER = launcher.Interpreter(cwd=PROJECT_ROOT, preload=('tfx.v1',))


def _run(spec, base, name, parameters=None):
    return launcher.run_pipeline_spec(
        spec,
        pipeline_root=str(base / 'pipeline-root'),
        work_dir=str(base / name),
        parameters=parameters,
        interpreter=INTERPRETER,
    )


@pytest.fixture(scope='module')
def runs(digits, tmp_path_factory):
    base = tmp_path_factory.mktemp('stand_in_e2e')
    data_root = str(base / 'data')
    config = PipelineConfig(
        work_root=str(base / 'work'),
        data_root=data_root,
        pipeline_root=str(base / 'pipeline-root'),
        serving_root=str(base / 'serving'),
        train_steps=FIRST_STEPS,
    )
    spec_path = str(base / 'pipeline.yaml')
    kubeflow_runner.compile_pipeline(config, 'tfx-digits:test', spec_path)
    spec = launcher.load_spec(spec_path)

    _write(digits, data_root, 1)
    first = _run(spec, base, 'first')
    first_versions = serving_layout.list_versions(config.serving_model_dir)

    _write(digits, data_root, 2)
    train_args = proto_utils.proto_to_json(trainer_pb2.TrainArgs(num_steps=SECOND_STEPS))
    second = _run(spec, base, 'second', parameters={'train_args': train_args})
    return {
        'spec': spec,
        'config': config,
        'first': first,
        'first_versions': first_versions,
        'second': second,
        'versions': serving_layout.list_versions(config.serving_model_dir),
    }


def _uri(run, task, key):
    return run.output(task, key)['uri']


def _files(folder):
    return {
        os.path.relpath(os.path.join(root, name), folder)
        for root, _, names in os.walk(folder)
        for name in names
    }


def test_every_task_of_the_spec_ran(runs):
    spec_tasks = set(runs['spec']['root']['dag']['tasks'])

    assert set(runs['first'].tasks) == spec_tasks
    assert set(runs['second'].tasks) == spec_tasks


def test_first_run_writes_what_a_local_run_writes(runs):
    first = runs['first']

    for split in ('train', 'eval'):
        assert f'Split-{split}/FeatureStats.pb' in _files(
            _uri(first, 'StatisticsGen', 'statistics')
        )
        assert f'Split-{split}/SchemaDiff.pb' in _files(
            _uri(first, 'ExampleValidator', 'anomalies')
        )
    assert 'schema.pbtxt' in _files(_uri(first, 'SchemaGen', 'schema'))
    assert 'transform_fn/saved_model.pb' in _files(_uri(first, 'Transform', 'transform_graph'))
    assert 'Format-Serving/saved_model.pb' in _files(_uri(first, 'Trainer', 'model'))
    assert any(
        name.startswith('metrics') for name in _files(_uri(first, 'Evaluator', 'evaluation'))
    )
    assert _files(_uri(first, 'Evaluator', 'blessing')) == {'BLESSED'}
    assert 'saved_model.pb' in _files(_uri(first, 'Pusher', 'pushed_model'))


def test_first_run_resolves_span_1_without_the_lifecycle_hook(runs):
    examples = runs['first'].output('ImportExampleGen', 'examples')

    assert examples['metadata']['span'] == 1.0
    assert examples['metadata']['split_names'] == '["train", "eval"]'
    assert 'xor_checksum' in examples['metadata']['input_fingerprint']


def test_first_run_is_blessed_and_pushes_one_version(runs):
    first = runs['first']
    blessing = first.output('Evaluator', 'blessing')['metadata']
    pushed = first.output('Pusher', 'pushed_model')['metadata']

    assert blessing['blessed'] == 1.0
    assert pushed['pushed'] == 1.0
    assert len(runs['first_versions']) == 1
    assert pushed['pushed_destination'].endswith(f'/digits/{runs["first_versions"][0]}')


def test_tasks_received_inputs_without_types_and_the_entry_point_restored_them(runs):
    with open(runs['first'].tasks['Trainer'].log_path) as log:
        text = log.read()

    assert 'Restored the declared type of 3 artifact(s) from the compiled spec' in text


def test_second_run_reads_span_2_with_the_run_time_training_steps(runs):
    second = runs['second']
    examples = second.output('ImportExampleGen', 'examples')
    with open(second.tasks['Trainer'].log_path) as log:
        trainer_log = log.read()

    assert examples['metadata']['span'] == 2.0
    assert f'for {SECOND_STEPS} steps' in trainer_log


def test_second_run_is_judged_against_the_served_version_and_pushes_only_if_blessed(runs):
    second = runs['second']
    baseline = second.output('ServingBaseline', 'baseline_model')['metadata']
    blessed = second.output('Evaluator', 'blessing')['metadata']['blessed'] == 1.0
    pushed = second.output('Pusher', 'pushed_model')['metadata']['pushed'] == 1.0

    assert baseline['serving_version'] == float(runs['first_versions'][0])
    assert blessed, 'a model trained 3x longer on new data should not be worse'
    assert pushed == blessed
    assert len(runs['versions']) == 2
    assert runs['versions'][0] == runs['first_versions'][0]


def test_newest_pushed_model_classifies_held_out_digits(runs, digits):
    images, labels = digits
    held_out = slice(2 * SPAN_SIZE, None)
    folder = os.path.join(runs['config'].serving_model_dir, str(runs['versions'][-1]))
    model = tf.saved_model.load(folder)

    pixels = tf.constant(images[held_out], tf.float32)
    probabilities = model.signatures['serving_pixels'](image=pixels)['probabilities'].numpy()

    accuracy = np.mean(probabilities.argmax(axis=1) == labels[held_out])
    assert accuracy > HELD_OUT_MIN_ACCURACY
