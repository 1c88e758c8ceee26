"""The Keras model and its export: real training steps, both signatures, the image spec."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.export import EXAMPLES_SIGNATURE, OUTPUT_KEY, export_serving_model
from models.image_spec import IMAGE_SPEC_FILE, ImageSpec, image_spec_from_schema, load_schema
from models.model import build_model
from tests.conftest import DIGITS_SCHEMA


def _serialize(images: np.ndarray) -> tf.Tensor:
    records = [
        tf.train.Example(
            features=tf.train.Features(
                feature={'image': tf.train.Feature(int64_list=tf.train.Int64List(value=image))}
            )
        ).SerializeToString()
        for image in images
    ]
    return tf.constant(records)


@pytest.fixture(scope='module')
def exported(digits, transform_output, tmp_path_factory):
    images, labels = digits
    scaled = transform_output.transform_raw_features({'image': tf.constant(images[:400])})
    keras.utils.set_random_seed(0)
    model = build_model(num_pixels=64, hidden_units=32, learning_rate=0.01)
    model.fit(scaled['image'], labels[:400], epochs=15, batch_size=32, verbose=0)

    export_dir = str(tmp_path_factory.mktemp('model'))
    spec = image_spec_from_schema(load_schema(DIGITS_SCHEMA))
    export_serving_model(model, transform_output, spec, export_dir)
    return export_dir


def test_model_maps_pixels_to_ten_probabilities():
    model = build_model(num_pixels=64, hidden_units=16, learning_rate=0.01)

    out = model(np.zeros((3, 64), dtype=np.float32))

    assert out.shape == (3, 10)
    np.testing.assert_allclose(np.sum(out, axis=1), 1.0, rtol=1e-5)


def test_both_signatures_return_probabilities_that_sum_to_one(exported, digits):
    images, _ = digits
    loaded = tf.saved_model.load(exported)

    by_examples = loaded.signatures[EXAMPLES_SIGNATURE](examples=_serialize(images[1500:1510]))
    by_pixels = loaded.signatures['serving_pixels'](
        image=tf.constant(images[1500:1510], tf.float32)
    )

    for result in (by_examples, by_pixels):
        probabilities = result[OUTPUT_KEY].numpy()
        assert probabilities.shape == (10, 10)
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(
        by_examples[OUTPUT_KEY].numpy(), by_pixels[OUTPUT_KEY].numpy(), rtol=1e-5
    )


def test_short_training_already_classifies_held_out_digits(exported, digits):
    images, labels = digits
    loaded = tf.saved_model.load(exported)

    probabilities = loaded.signatures['serving_pixels'](
        image=tf.constant(images[1500:], tf.float32)
    )[OUTPUT_KEY].numpy()

    assert np.mean(probabilities.argmax(axis=1) == labels[1500:]) > 0.85


def test_export_carries_the_image_spec_of_the_training_data(exported):
    with open(os.path.join(exported, 'assets', IMAGE_SPEC_FILE)) as spec_file:
        spec = json.load(spec_file)

    assert spec['height'] == spec['width'] == 8
    assert (spec['pixel_min'], spec['pixel_max']) == (0, 16)
    assert spec['signature'] == 'serving_pixels'
    assert spec['classes'] == [str(digit) for digit in range(10)]
    assert ImageSpec.from_json(json.dumps(spec)).num_pixels == 64


def test_image_spec_rejects_a_non_square_image_schema():
    schema = load_schema(DIGITS_SCHEMA)
    schema.feature[0].shape.dim[0].size = 60

    with pytest.raises(ValueError, match='60 pixels per image is not a square image'):
        image_spec_from_schema(schema)
