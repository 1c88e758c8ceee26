"""The stand-in serves a model exported by the pipeline's own export code, Transform included."""

import numpy as np
import pytest
import tensorflow as tf

from models.export import export_serving_model
from models.image_spec import image_spec_from_schema, load_schema
from models.model import build_model
from serving.options import ServingOptions
from tests.conftest import DIGITS_SCHEMA
from tests.serving.serving_helpers import (
    MODEL_NAME,
    drawing_data_url,
    make_config,
    push_version,
    running_server,
)


@pytest.fixture(scope='module')
def pipeline_export(digits, transform_output, tmp_path_factory):
    images, labels = digits
    scaled = transform_output.transform_raw_features({'image': tf.constant(images)})
    model = build_model(num_pixels=64, hidden_units=32, learning_rate=0.01)
    model.fit(scaled['image'], labels, epochs=10, batch_size=64, verbose=0)
    export_dir = str(tmp_path_factory.mktemp('pipeline-export') / 'model')
    spec = image_spec_from_schema(load_schema(DIGITS_SCHEMA))
    export_serving_model(model, transform_output, spec, export_dir)
    return export_dir


def test_pipeline_export_answers_rest_and_page_like_the_model_in_process(
    tmp_path, pipeline_export, digit_set
):
    config = make_config(tmp_path)
    push_version(config.serving_model_dir, 1, pipeline_export)
    rows = digit_set.pixels[1700:1716]
    signature = tf.saved_model.load(pipeline_export).signatures['serving_pixels']
    expected = signature(image=tf.constant(rows))['probabilities'].numpy()

    with running_server(config, ServingOptions(prediction_log=False)) as live:
        metadata = live.client.get(f'/v1/models/{MODEL_NAME}/metadata').json()
        predicted = live.client.post(
            f'/v1/models/{MODEL_NAME}:predict',
            json={'signature_name': 'serving_pixels', 'instances': rows.tolist()},
        )
        page = live.client.post(
            '/page/predict', json={'image': drawing_data_url(digit_set.images[1700])}
        )

    signatures = metadata['metadata']['signature_def']['signature_def']
    assert {'serving_default', 'serving_pixels'} <= set(signatures)
    assert predicted.status_code == 200
    assert np.allclose(predicted.json()['predictions'], expected, atol=1e-6)
    assert page.status_code == 200
    assert page.json()['top_classes'][0]['class'] == str(digit_set.labels[1700])
    assert page.json()['model_version'] == '1'
