"""The stand-in answers TF Serving's REST API with TF Serving's request and response shapes."""

import base64

import numpy as np
import pytest
import tensorflow as tf

from serving.rest_api import MODEL_VERSION_HEADER
from tests.serving.serving_helpers import MODEL_NAME, NUM_PIXELS, serialized_example

PREDICT = f'/v1/models/{MODEL_NAME}:predict'


def in_process(reference_models, version, rows):
    signature = reference_models[version].signatures['serving_pixels']
    return signature(image=tf.constant(rows, dtype=tf.float32))['probabilities'].numpy()


def test_status_lists_loaded_versions_newest_first_as_available(module_server):
    response = module_server.client.get(f'/v1/models/{MODEL_NAME}')

    assert response.status_code == 200
    assert response.json() == {
        'model_version_status': [
            {
                'version': v,
                'state': 'AVAILABLE',
                'status': {'error_code': 'OK', 'error_message': ''},
            }
            for v in ('2', '1')
        ]
    }


def test_status_of_one_version_lists_only_that_version(module_server):
    response = module_server.client.get(f'/v1/models/{MODEL_NAME}/versions/1')

    assert response.status_code == 200
    assert [s['version'] for s in response.json()['model_version_status']] == ['1']


def test_metadata_describes_both_signatures_like_tf_serving(module_server):
    response = module_server.client.get(f'/v1/models/{MODEL_NAME}/metadata')

    assert response.status_code == 200
    body = response.json()
    assert body['model_spec'] == {'name': MODEL_NAME, 'signature_name': '', 'version': '2'}
    signatures = body['metadata']['signature_def']['signature_def']
    examples = signatures['serving_default']['inputs']['examples']
    assert examples['dtype'] == 'DT_STRING'
    assert examples['tensor_shape'] == {'dim': [{'size': '-1', 'name': ''}], 'unknown_rank': False}
    assert examples['name'] == 'serving_default_examples:0'
    pixels = signatures['serving_pixels']['inputs']['image']
    assert pixels['dtype'] == 'DT_FLOAT'
    assert [d['size'] for d in pixels['tensor_shape']['dim']] == ['-1', str(NUM_PIXELS)]
    for name in ('serving_default', 'serving_pixels'):
        output = signatures[name]['outputs']['probabilities']
        assert output['dtype'] == 'DT_FLOAT'
        assert [d['size'] for d in output['tensor_shape']['dim']] == ['-1', '10']
        assert signatures[name]['method_name'] == 'tensorflow/serving/predict'


def test_metadata_of_an_older_version_names_that_version(module_server):
    response = module_server.client.get(f'/v1/models/{MODEL_NAME}/versions/1/metadata')

    assert response.status_code == 200
    assert response.json()['model_spec']['version'] == '1'


@pytest.mark.parametrize('rows', [1, 5], ids=['single', 'batch'])
def test_row_format_predictions_equal_the_saved_model_in_process(
    module_server, reference_models, digit_set, rows
):
    pixels = digit_set.pixels[:rows]

    response = module_server.client.post(
        PREDICT, json={'signature_name': 'serving_pixels', 'instances': pixels.tolist()}
    )

    assert response.status_code == 200
    assert response.headers[MODEL_VERSION_HEADER] == '2'
    predictions = np.array(response.json()['predictions'])
    assert predictions.shape == (rows, 10)
    assert np.allclose(predictions, in_process(reference_models, 2, pixels), atol=1e-6)


def test_row_format_accepts_instances_as_objects_naming_the_input(
    module_server, reference_models, digit_set
):
    pixels = digit_set.pixels[10:13]
    instances = [{'image': row} for row in pixels.tolist()]

    response = module_server.client.post(
        PREDICT, json={'signature_name': 'serving_pixels', 'instances': instances}
    )

    assert response.status_code == 200
    predictions = np.array(response.json()['predictions'])
    assert np.allclose(predictions, in_process(reference_models, 2, pixels), atol=1e-6)


@pytest.mark.parametrize('named', [False, True], ids=['bare', 'named'])
@pytest.mark.parametrize('rows', [1, 4], ids=['single', 'batch'])
def test_columnar_outputs_equal_the_saved_model_in_process(
    module_server, reference_models, digit_set, rows, named
):
    pixels = digit_set.pixels[20 : 20 + rows]
    inputs = {'image': pixels.tolist()} if named else pixels.tolist()

    response = module_server.client.post(
        PREDICT, json={'signature_name': 'serving_pixels', 'inputs': inputs}
    )

    assert response.status_code == 200
    assert set(response.json()) == {'outputs'}
    outputs = np.array(response.json()['outputs'])
    assert np.allclose(outputs, in_process(reference_models, 2, pixels), atol=1e-6)


def test_default_signature_takes_b64_serialized_examples(
    module_server, reference_models, digit_set
):
    pixels = digit_set.pixels[30:33]
    instances = [
        {'b64': base64.b64encode(serialized_example(row)).decode('ascii')} for row in pixels
    ]

    response = module_server.client.post(PREDICT, json={'instances': instances})

    assert response.status_code == 200
    predictions = np.array(response.json()['predictions'])
    assert np.allclose(predictions, in_process(reference_models, 2, pixels), atol=1e-6)
    assert np.allclose(predictions.sum(axis=1), 1.0, atol=1e-5)


def test_versioned_predict_is_answered_by_that_version(module_server, reference_models, digit_set):
    pixels = digit_set.pixels[:3]

    response = module_server.client.post(
        f'/v1/models/{MODEL_NAME}/versions/1:predict',
        json={'signature_name': 'serving_pixels', 'instances': pixels.tolist()},
    )

    assert response.status_code == 200
    assert response.headers[MODEL_VERSION_HEADER] == '1'
    predictions = np.array(response.json()['predictions'])
    assert np.allclose(predictions, in_process(reference_models, 1, pixels), atol=1e-6)
    assert not np.allclose(predictions, in_process(reference_models, 2, pixels), atol=1e-3)
