"""A running server switches to newly pushed versions and never loads a half-written one."""

import glob
import os
import shutil
import time

import numpy as np
import tensorflow as tf

from serving.rest_api import MODEL_VERSION_HEADER
from tests.serving.serving_helpers import MODEL_NAME, make_config, push_version, running_server

PREDICT = f'/v1/models/{MODEL_NAME}:predict'
RELOAD_TIMEOUT_S = 30


def predict(live, rows, path=PREDICT):
    response = live.client.post(
        path, json={'signature_name': 'serving_pixels', 'instances': rows.tolist()}
    )
    assert response.status_code == 200, response.text
    return response.headers[MODEL_VERSION_HEADER], np.array(response.json()['predictions'])


def expected(reference_models, version, rows):
    signature = reference_models[version].signatures['serving_pixels']
    return signature(image=tf.constant(rows))['probabilities'].numpy()


def wait_for_version(live, rows, version):
    deadline = time.monotonic() + RELOAD_TIMEOUT_S
    while time.monotonic() < deadline:
        answered_by, predictions = predict(live, rows)
        if answered_by == version:
            return predictions
        time.sleep(0.05)
    raise AssertionError(f'version {version} did not start answering in {RELOAD_TIMEOUT_S} s')


def test_pushed_version_answers_without_restart_and_previous_stays_addressable(
    tmp_path, exported_versions, reference_models, digit_set, fast_options
):
    config = make_config(tmp_path)
    push_version(config.serving_model_dir, 1, exported_versions[1])
    rows = digit_set.pixels[:4]

    with running_server(config, fast_options) as live:
        answered_by, before = predict(live, rows)
        push_version(config.serving_model_dir, 2, exported_versions[2])
        after = wait_for_version(live, rows, '2')
        previous_by, previous = predict(live, rows, f'/v1/models/{MODEL_NAME}/versions/1:predict')
        status = live.client.get(f'/v1/models/{MODEL_NAME}').json()

    assert answered_by == '1'
    assert np.allclose(before, expected(reference_models, 1, rows), atol=1e-6)
    assert np.allclose(after, expected(reference_models, 2, rows), atol=1e-6)
    assert previous_by == '1'
    assert np.allclose(previous, before, atol=1e-6)
    assert [s['version'] for s in status['model_version_status']] == ['2', '1']


def test_half_copied_versions_are_never_loaded_and_old_version_keeps_answering(
    tmp_path, exported_versions, reference_models, digit_set, fast_options
):
    config = make_config(tmp_path)
    model_dir = config.serving_model_dir
    push_version(model_dir, 1, exported_versions[1])
    rows = digit_set.pixels[:4]

    with running_server(config, fast_options) as live:
        # Version 3: variables copied, saved_model.pb not yet (TFX's Pusher copies it last).
        shutil.copytree(os.path.join(exported_versions[2], 'variables'), f'{model_dir}/3/variables')
        # Version 4: everything but the variable data, which is still being copied.
        shutil.copytree(exported_versions[2], f'{model_dir}/4')
        (data_file,) = glob.glob(f'{model_dir}/4/variables/variables.data-*')
        os.rename(data_file, f'{tmp_path}/variables-being-copied')
        answers = []
        deadline = time.monotonic() + 20 * fast_options.poll_interval_s
        while time.monotonic() < deadline:
            answers.append(predict(live, rows))
            time.sleep(0.02)
        status = live.client.get(f'/v1/models/{MODEL_NAME}').json()

        os.rename(f'{tmp_path}/variables-being-copied', data_file)
        completed = wait_for_version(live, rows, '4')

    assert {answered_by for answered_by, _ in answers} == {'1'}
    for _, predictions in answers:
        assert np.allclose(predictions, expected(reference_models, 1, rows), atol=1e-6)
    assert [s['version'] for s in status['model_version_status']] == ['1']
    assert np.allclose(completed, expected(reference_models, 2, rows), atol=1e-6)
