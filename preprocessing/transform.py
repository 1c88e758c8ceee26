"""Transform's preprocessing_fn: the one graph that training and serving both apply.

TFT analyses the training split once (the pixel minimum and maximum over all training images)
and bakes the result into a graph. The Trainer feeds the model through that graph and the
exported signatures embed it, so a served request is scaled exactly as training data was.
"""

import tensorflow as tf
import tensorflow_transform as tft

from preprocessing import features


def preprocessing_fn(inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Scales raw pixel values to [0, 1] and passes the label through.

    The scale comes from one minimum and maximum over every pixel of the training split,
    not per pixel: a corner pixel that is always blank in training must not blow up when a
    served digit touches it.

    Args:
        inputs: Raw features parsed with the curated schema: `image` as int64 [batch, pixels]
            and, in training, `label` as int64 [batch, 1].

    Returns:
        `image` as float32 [batch, pixels] in [0, 1], and `label` unchanged when present.
    """
    image = tf.cast(inputs[features.IMAGE_KEY], tf.float32)
    outputs = {features.IMAGE_KEY: tft.scale_to_0_1(image)}
    if features.LABEL_KEY in inputs:
        outputs[features.LABEL_KEY] = inputs[features.LABEL_KEY]
    return outputs
