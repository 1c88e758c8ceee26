"""A digit drawn large comes back as the 8x8 (or 28x28) pixel row the model was trained on."""

import base64
import dataclasses
import io
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from models.image_spec import ImageSpec
from serving.errors import RequestError
from serving.image_input import decode_data_url, to_model_pixels
from tests.serving.serving_helpers import IMAGE_SPEC

DIGITS_SPEC = ImageSpec.from_json(json.dumps(IMAGE_SPEC))
MNIST_SPEC = dataclasses.replace(DIGITS_SPEC, height=28, width=28, pixel_max=255)
CANVAS = 280


def render_large(image_8x8, background):
    """Draws an 8x8 digit (0..16) on a 280x280 RGBA canvas, as a person's drawing would be."""
    ink = np.kron(image_8x8 / 16.0, np.ones((CANVAS // 8, CANVAS // 8)))
    if background == 'light':
        gray = np.round(255 * (1 - ink)).astype(np.uint8)
        alpha = np.full_like(gray, 255)
    elif background == 'dark':
        gray = np.round(255 * ink).astype(np.uint8)
        alpha = np.full_like(gray, 255)
    else:  # transparent ground, black ink whose opacity carries the strength
        gray = np.zeros(ink.shape, np.uint8)
        alpha = np.round(255 * ink).astype(np.uint8)
    return Image.fromarray(np.dstack([gray, gray, gray, alpha]), 'RGBA')


def centred_examples(digit_set):
    """The first digit of each class whose ink is centred and reaches full strength."""
    chosen = {}
    for index, (image, label) in enumerate(zip(digit_set.images, digit_set.labels, strict=True)):
        columns = np.flatnonzero(image.any(axis=0))
        centred = columns[0] == 7 - columns[-1]
        if label not in chosen and centred and image.max() == 16:
            chosen[label] = index
    return [chosen[label] for label in range(10)]


@pytest.mark.parametrize('background', ['light', 'dark', 'transparent'])
def test_large_rendering_of_a_digit_comes_back_as_its_8x8_pixels_and_true_class(
    digit_set, reference_models, background
):
    indices = centred_examples(digit_set)
    converted = np.stack(
        [
            to_model_pixels(render_large(digit_set.images[i], background), DIGITS_SPEC)
            for i in indices
        ]
    )

    originals = digit_set.pixels[indices]
    assert converted.shape == (10, 64)
    assert np.abs(converted - originals).max() < 0.5
    signature = reference_models[2].signatures['serving_pixels']
    predicted = signature(image=tf.constant(converted))['probabilities'].numpy().argmax(axis=1)
    assert predicted.tolist() == digit_set.labels[indices].tolist()


def test_off_centre_digits_come_back_close_on_average(digit_set):
    converted = np.stack(
        [
            to_model_pixels(render_large(image, 'light'), DIGITS_SPEC)
            for image in digit_set.images[:100]
        ]
    )

    error = np.abs(converted - digit_set.pixels[:100]).mean()
    assert error < 1.0  # on the 0..16 scale; off-centre originals come back centred


def test_mnist_grid_fits_the_digit_in_20_pixels_with_its_centre_of_mass_centred(digit_set):
    pixels = to_model_pixels(render_large(digit_set.images[0], 'light'), MNIST_SPEC).reshape(28, 28)

    rows = np.flatnonzero(pixels.any(axis=1))
    columns = np.flatnonzero(pixels.any(axis=0))
    assert rows[-1] - rows[0] + 1 <= 21 and columns[-1] - columns[0] + 1 <= 21
    ys, xs = np.indices(pixels.shape)
    centre = ((ys * pixels).sum() / pixels.sum() + 0.5, (xs * pixels).sum() / pixels.sum() + 0.5)
    assert np.allclose(centre, (14, 14), atol=0.6)
    assert pixels.min() == 0.0 and 250 <= pixels.max() <= 255.0


def test_png_data_url_decodes_to_the_same_pixels_as_the_image(digit_set):
    image = render_large(digit_set.images[5], 'transparent')
    buffer = io.BytesIO()
    image.save(buffer, format='PNG')
    data_url = 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode('ascii')

    decoded = decode_data_url(data_url)

    assert np.array_equal(
        to_model_pixels(decoded, DIGITS_SPEC), to_model_pixels(image, DIGITS_SPEC)
    )


def test_blank_image_is_refused_as_holding_no_digit():
    with pytest.raises(RequestError, match='holds no digit'):
        to_model_pixels(Image.new('RGBA', (CANVAS, CANVAS), (255, 255, 255, 255)), DIGITS_SPEC)
