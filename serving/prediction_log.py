"""Logs what the served model saw and answered, as tf.Examples that TFDV reads like the data.

Each predicted row becomes one tf.Example with the pixels under the training data's feature name
(int64, rounded and clipped into [pixel_min, pixel_max], as the digits and MNIST data store
them; NaN is logged as pixel_min), so the pipeline can compare serving statistics with training
statistics (`tfdv.generate_statistics_from_tfrecord` on this folder) to find skew and drift.
Features:

- `<feature>` (`image`): int64 pixel row, H*W values, row-major;
- `predicted_class`: int64 index into the spec's classes;
- `probability`: float, the predicted class's probability;
- `model_version`: int64, the version that answered;
- `timestamp_ms`: int64, milliseconds since the Unix epoch;
- `source`: bytes, `rest` for the REST API and `page` for the drawing page.

Each server process writes its own TFRecord file and flushes it after every request, so a crash
loses nothing already answered and readers never see half a record.
"""

from __future__ import annotations

import datetime
import os
import threading
import time
from collections.abc import Mapping

import numpy as np
import tensorflow as tf
from absl import logging

from models.image_spec import ImageSpec

PROBABILITIES_OUTPUT = 'probabilities'


class PredictionLog:
    """Appends logged predictions to this process's TFRecord file under the log folder."""

    def __init__(self, log_dir: str):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
        self.path = os.path.join(log_dir, f'predictions-{stamp}-{os.getpid()}.tfrecord')
        self._log_dir = log_dir
        self._writer: tf.io.TFRecordWriter | None = None
        self._lock = threading.Lock()
        self.count = 0

    def write(
        self,
        pixels: np.ndarray,
        probabilities: np.ndarray,
        model_version: int,
        spec: ImageSpec,
        source: str,
    ) -> None:
        """Logs one request's rows and flushes them to disk.

        Args:
            pixels: [batch, H*W] pixel rows as the model received them.
            probabilities: [batch, classes] the model's answers.
            model_version: The version that answered.
            spec: The version's image spec, for the feature name and the pixel range.
            source: Where the request came from: 'rest' or 'page'.
        """
        finite = np.nan_to_num(
            pixels, nan=spec.pixel_min, posinf=spec.pixel_max, neginf=spec.pixel_min
        )
        rounded = np.clip(np.rint(finite), spec.pixel_min, spec.pixel_max).astype(np.int64)
        predicted = probabilities.argmax(axis=1)
        version = _int64s([model_version])
        timestamp = _int64s([int(time.time() * 1000)])
        origin = tf.train.Feature(bytes_list=tf.train.BytesList(value=[source.encode()]))
        records = [
            tf.train.Example(
                features=tf.train.Features(
                    feature={
                        spec.feature: _int64s(row.tolist()),
                        'predicted_class': _int64s([int(label)]),
                        'probability': tf.train.Feature(
                            float_list=tf.train.FloatList(value=[probabilities[i, label]])
                        ),
                        'model_version': version,
                        'timestamp_ms': timestamp,
                        'source': origin,
                    }
                )
            ).SerializeToString()
            for i, (row, label) in enumerate(zip(rounded, predicted, strict=True))
        ]
        with self._lock:
            if self._writer is None:
                tf.io.gfile.makedirs(self._log_dir)
                self._writer = tf.io.TFRecordWriter(self.path)
                logging.info('Logging predictions to %s', self.path)
            for record in records:
                self._writer.write(record)
            self._writer.flush()
            self.count += len(records)

    def close(self) -> None:
        """Closes the file at shutdown; the server writes nothing after it."""
        with self._lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
                logging.info('Logged %d predictions to %s', self.count, self.path)


def pixel_rows(inputs: Mapping[str, np.ndarray], spec: ImageSpec) -> np.ndarray | None:
    """Recovers the pixel rows a predict request carried, whatever signature it used.

    Args:
        inputs: The request's decoded inputs.
        spec: The answering version's image spec.

    Returns:
        [batch, H*W] pixel rows, or None when the inputs are neither pixel rows nor serialized
        tf.Examples holding the spec's feature.
    """
    if len(inputs) != 1:
        return None
    (value,) = inputs.values()
    if value.dtype != object:
        return value if value.ndim == 2 and value.shape[1] == spec.num_pixels else None

    rows = []
    for serialized in value.reshape(-1):
        feature = tf.train.Example.FromString(serialized).features.feature.get(spec.feature)
        if feature is None:
            return None
        values = feature.int64_list.value or feature.float_list.value
        if len(values) != spec.num_pixels:
            return None
        rows.append(np.asarray(values, dtype=np.float32))
    return np.stack(rows)


def _int64s(values: list[int]) -> tf.train.Feature:
    return tf.train.Feature(int64_list=tf.train.Int64List(value=values))
