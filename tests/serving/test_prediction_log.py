"""Predictions are logged as tf.Examples that TFDV reads, one file per server process."""

import base64
import dataclasses
import glob
import os

import numpy as np
import tensorflow as tf
import tensorflow_data_validation as tfdv

from serving.options import ServingOptions
from tests.serving.serving_helpers import (
    MODEL_NAME,
    drawing_data_url,
    make_config,
    push_version,
    running_server,
    serialized_example,
)

PREDICT = f'/v1/models/{MODEL_NAME}:predict'


def test_each_predicted_row_is_logged_and_tfdv_reads_the_log_while_serving(
    tmp_path, exported_versions, digit_set
):
    config = make_config(tmp_path)
    push_version(config.serving_model_dir, 2, exported_versions[2])
    examples = [
        {'b64': base64.b64encode(serialized_example(row)).decode('ascii')}
        for row in digit_set.pixels[5:8]
    ]

    with running_server(config, ServingOptions()) as live:
        pixel_rows = {
            'signature_name': 'serving_pixels',
            'instances': digit_set.pixels[:4].tolist(),
        }
        assert live.client.post(PREDICT, json=pixel_rows).status_code == 200
        assert live.client.post(PREDICT, json={'instances': examples}).status_code == 200
        page = {'image': drawing_data_url(digit_set.images[0])}
        assert live.client.post('/page/predict', json=page).status_code == 200
        bad = {'signature_name': 'serving_pixels', 'instances': [[1.0] * 3]}
        assert live.client.post(PREDICT, json=bad).status_code == 400

        files = glob.glob(os.path.join(config.prediction_log_dir, '*.tfrecord'))
        statistics = tfdv.generate_statistics_from_tfrecord(data_location=files[0])

    assert len(files) == 1
    assert statistics.datasets[0].num_examples == 4 + 3 + 1
    records = [
        tf.train.Example.FromString(record.numpy()) for record in tf.data.TFRecordDataset(files)
    ]
    features = [record.features.feature for record in records]
    logged = np.array([f['image'].int64_list.value for f in features])
    assert logged.shape == (8, 64)
    assert np.array_equal(logged[:7], np.concatenate([digit_set.pixels[:4], digit_set.pixels[5:8]]))
    assert logged.min() >= 0 and logged.max() <= 16
    assert [f['model_version'].int64_list.value[0] for f in features] == [2] * 8
    assert [f['source'].bytes_list.value[0] for f in features] == [b'rest'] * 7 + [b'page']
    assert features[7]['predicted_class'].int64_list.value[0] == digit_set.labels[0]
    assert all(0.0 < f['probability'].float_list.value[0] <= 1.0 for f in features)
    assert all(f['timestamp_ms'].int64_list.value[0] > 0 for f in features)


def test_no_prediction_log_option_writes_nothing(tmp_path, exported_versions, digit_set):
    config = make_config(tmp_path)
    push_version(config.serving_model_dir, 2, exported_versions[2])
    options = dataclasses.replace(ServingOptions(), prediction_log=False)

    with running_server(config, options) as live:
        rows = {'signature_name': 'serving_pixels', 'instances': digit_set.pixels[:2].tolist()}
        assert live.client.post(PREDICT, json=rows).status_code == 200

    assert not os.path.exists(config.prediction_log_dir)


def test_prediction_is_answered_even_when_the_log_cannot_be_written(
    tmp_path, exported_versions, digit_set
):
    blocked = tmp_path / 'pipeline-root-is-a-file'
    blocked.write_text('')
    config = dataclasses.replace(make_config(tmp_path), pipeline_root=str(blocked))
    push_version(config.serving_model_dir, 2, exported_versions[2])

    with running_server(config, ServingOptions()) as live:
        rows = {'signature_name': 'serving_pixels', 'instances': digit_set.pixels[:2].tolist()}
        responses = [live.client.post(PREDICT, json=rows) for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
