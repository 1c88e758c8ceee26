"""The on-disk form of a span: gzipped TFRecord files of tf.train.Example digits.

The feature names come from `preprocessing.features`, the ones Transform reads; the span writer
(`spans`) and the pre-flight check (`check`) both take the file suffix and compression from here.
"""

from __future__ import annotations

from collections.abc import Iterator

import tensorflow as tf

from dataprep.digit_set import DigitSet
from preprocessing.features import IMAGE_KEY, LABEL_KEY

# The pipeline's ExampleGen reads `span-{SPAN}/*.tfrecord.gz`.
FILE_SUFFIX = '.tfrecord.gz'
COMPRESSION = 'GZIP'


def serialize_examples(digits: DigitSet) -> Iterator[bytes]:
    """Turns each digit into a serialized tf.train.Example.

    Args:
        digits: The images and labels to convert.

    Yields:
        Serialized Examples in the order of `digits`, each with `image` (the H*W pixel values,
        row-major) and `label` (one value), both int64 lists.
    """
    pixels = digits.images.reshape(digits.num_examples, -1)
    for label, row in zip(digits.labels.tolist(), pixels.tolist(), strict=True):
        features = {
            IMAGE_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=row)),
            LABEL_KEY: tf.train.Feature(int64_list=tf.train.Int64List(value=[label])),
        }
        example = tf.train.Example(features=tf.train.Features(feature=features))
        yield example.SerializeToString()
