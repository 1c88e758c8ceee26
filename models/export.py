"""Exports a trained model as a SavedModel that TFMA and TF Serving both load.

Two signatures, both through the Transform graph so that serving scales pixels exactly as
training did:

- `serving_default` takes serialized tf.Examples (`examples`), as TFMA and TF Serving's
  classify and regress APIs send them;
- `serving_pixels` takes raw pixel rows (`image`, float32 [batch, pixels]), as a TF Serving REST
  `predict` request with `instances` sends them.

Both return `probabilities`, float32 [batch, 10].
"""

import os
import tempfile

import keras
import tensorflow as tf
import tensorflow_transform as tft

from models.image_spec import IMAGE_SPEC_FILE, PIXELS_SIGNATURE, ImageSpec
from preprocessing import features

EXAMPLES_SIGNATURE = 'serving_default'
OUTPUT_KEY = 'probabilities'


class _ServingModule(tf.Module):
    """Holds the model, the Transform layer and the image spec asset for saving."""

    def __init__(
        self, model: keras.Model, transform_output: tft.TFTransformOutput, spec_path: str
    ) -> None:
        super().__init__()
        self.model = model
        self.tft_layer = transform_output.transform_features_layer()
        self.image_spec = tf.saved_model.Asset(spec_path)

        raw_spec = transform_output.raw_feature_spec()
        raw_spec.pop(features.LABEL_KEY, None)
        num_pixels = raw_spec[features.IMAGE_KEY].shape[0]

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
        def serve_examples(examples: tf.Tensor) -> dict[str, tf.Tensor]:
            return self._predict(tf.io.parse_example(examples, raw_spec))

        @tf.function(input_signature=[tf.TensorSpec([None, num_pixels], tf.float32, name='image')])
        def serve_pixels(image: tf.Tensor) -> dict[str, tf.Tensor]:
            # Training pixels are integers; round so a served row parses as the data does.
            return self._predict({features.IMAGE_KEY: tf.cast(tf.round(image), tf.int64)})

        self.serve_examples = serve_examples
        self.serve_pixels = serve_pixels

    def _predict(self, raw_features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        transformed = self.tft_layer(raw_features)
        return {OUTPUT_KEY: self.model(transformed[features.IMAGE_KEY], training=False)}


def export_serving_model(
    model: keras.Model,
    transform_output: tft.TFTransformOutput,
    image_spec: ImageSpec,
    export_dir: str,
) -> None:
    """Saves the model with both signatures and the `image_spec.json` asset.

    Args:
        model: The trained Keras model over transformed features.
        transform_output: The Transform graph the model was trained behind.
        image_spec: Size and pixel range of the raw images, written as an asset.
        export_dir: Destination folder or URI (the Trainer's serving model directory).
    """
    with tempfile.TemporaryDirectory() as scratch:
        spec_path = os.path.join(scratch, IMAGE_SPEC_FILE)
        with open(spec_path, 'w') as spec_file:
            spec_file.write(image_spec.to_json())

        module = _ServingModule(model, transform_output, spec_path)
        signatures = {
            EXAMPLES_SIGNATURE: module.serve_examples.get_concrete_function(),
            PIXELS_SIGNATURE: module.serve_pixels.get_concrete_function(),
        }
        tf.saved_model.save(module, export_dir, signatures=signatures)
