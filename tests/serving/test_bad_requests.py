"""Every kind of bad request gets a 4xx naming the problem, and the next good request succeeds."""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from serving.options import ServingOptions
from tests.serving.serving_helpers import MODEL_NAME, NUM_PIXELS

PREDICT = f'/v1/models/{MODEL_NAME}:predict'
GOOD_ROW = [0.0] * NUM_PIXELS
LIMITS = ServingOptions()


def pixels_body(instances):
    return {'signature_name': 'serving_pixels', 'instances': instances}


def blank_png_data_url():
    buffer = io.BytesIO()
    Image.new('RGB', (64, 64), 'white').save(buffer, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode('ascii')


def oversized_chunks():
    chunk = b' ' * (256 * 1024)
    for _ in range(LIMITS.max_body_bytes // len(chunk) + 2):
        yield chunk


def bad(status, message, method='POST', path=PREDICT, **request):
    """One bad request: what is sent, and the status and error text expected back."""
    return {'method': method, 'path': path, 'request': request, 'status': status, 'error': message}


UNPARSABLE_EXAMPLE = base64.b64encode(b'junk').decode('ascii')
BAD_REQUESTS = {
    'malformed_json': bad(400, 'not valid JSON', content=b'{"instances": [[1, 2'),
    'body_not_an_object': bad(400, 'must be a JSON object', json=[GOOD_ROW]),
    'wrong_pixel_count': bad(400, 'needs shape [-1, 64]', json=pixels_body([[0.0] * 63])),
    'strings_for_numbers': bad(400, 'got strings', json=pixels_body([['ink'] * NUM_PIXELS])),
    'booleans_for_numbers': bad(400, 'got booleans', json=pixels_body([[True] * NUM_PIXELS])),
    'ragged_rows': bad(400, 'ragged', json=pixels_body([GOOD_ROW, GOOD_ROW[:10]])),
    'empty_instances': bad(400, '"instances" is empty', json=pixels_body([])),
    'instances_and_inputs': bad(
        400, 'exactly one of "instances" or "inputs"', json={'instances': [], 'inputs': []}
    ),
    'misspelled_key': bad(400, 'unknown key', json={'instance': [GOOD_ROW]}),
    'too_many_rows': bad(
        413,
        f'holds {LIMITS.max_batch_rows + 1:,} rows',
        json=pixels_body([GOOD_ROW] * (LIMITS.max_batch_rows + 1)),
    ),
    'body_over_limit': bad(413, 'exceeds the limit', content=b' ' * (LIMITS.max_body_bytes + 1)),
    'chunked_body_over_limit': bad(413, 'exceeds the limit', content=oversized_chunks()),
    'unknown_model': bad(
        404, "model 'mnist' is not served here", path='/v1/models/mnist:predict', json={}
    ),
    'unknown_version': bad(
        404, 'version 7 of model', path=f'/v1/models/{MODEL_NAME}/versions/7:predict', json={}
    ),
    'version_not_a_number': bad(
        400, 'not a whole number', method='GET', path=f'/v1/models/{MODEL_NAME}/versions/latest'
    ),
    'unknown_signature': bad(
        400, "signature_name 'serving_rgb'", json={'signature_name': 'serving_rgb', 'instances': []}
    ),
    'invalid_b64': bad(400, 'invalid base64', json={'instances': [{'b64': '*not base64*'}]}),
    'b64_that_is_no_example': bad(
        400,
        "rejected the input of 'serving_default'",
        json={'instances': [{'b64': UNPARSABLE_EXAMPLE}]},
    ),
    'numbers_for_serialized_examples': bad(400, 'takes strings', json={'instances': [1, 2]}),
    'unknown_endpoint': bad(404, 'no endpoint at /v2/models', method='GET', path='/v2/models'),
    'wrong_method': bad(
        405, 'Method Not Allowed', method='DELETE', path=f'/v1/models/{MODEL_NAME}'
    ),
    'page_without_image': bad(400, 'send {"image"', path='/page/predict', json={'png': 'x'}),
    'page_image_not_a_data_url': bad(
        400, 'must be a data URL', path='/page/predict', json={'image': 'seven.png'}
    ),
    'page_image_undecodable': bad(
        400,
        'no readable image',
        path='/page/predict',
        json={'image': 'data:image/png;base64,' + base64.b64encode(b'no png').decode()},
    ),
    'page_image_blank': bad(
        400, 'holds no digit', path='/page/predict', json={'image': blank_png_data_url()}
    ),
}


@pytest.mark.parametrize('case', BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
def test_bad_request_gets_4xx_naming_the_problem_and_the_next_request_succeeds(
    module_server, digit_set, case
):
    response = module_server.client.request(case['method'], case['path'], **case['request'])

    assert response.status_code == case['status'], response.text
    assert response.headers['content-type'] == 'application/json'
    assert case['error'] in response.json()['error']
    good = module_server.client.post(PREDICT, json=pixels_body(digit_set.pixels[:2].tolist()))
    assert good.status_code == 200
    assert np.array(good.json()['predictions']).shape == (2, 10)


@pytest.mark.parametrize('token', [float('nan'), float('inf'), -float('inf')])
def test_non_finite_pixels_are_refused_and_the_server_keeps_answering(module_server, token):
    # NaN and Infinity parse as JSON numbers; the model once answered them with certainty.
    row = [token] + GOOD_ROW[1:]

    response = module_server.client.post(PREDICT, content=json.dumps(pixels_body([row])))

    assert response.status_code == 400
    assert 'NaN or infinite' in response.json()['error']
    good = module_server.client.post(PREDICT, json=pixels_body([GOOD_ROW]))
    assert good.status_code == 200
