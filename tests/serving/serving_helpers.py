"""Helpers for the serving tests: SavedModels under the Pusher's contract, and live servers.

Two versions of a tiny Keras 3 classifier are trained on scikit-learn's digits and exported the
way the pipeline's Trainer does: `serving_default` over serialized tf.Examples, `serving_pixels`
over raw pixel rows, and `assets/image_spec.json`. They are pushed like the pipeline's Pusher
pushes: copied into `.staging-<version>` and renamed into place.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import io
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import keras
import numpy as np
import tensorflow as tf
from PIL import Image

from pipeline.config import PipelineConfig
from serving import stand_in
from serving.options import ServingOptions

MODEL_NAME = 'digits'
IMAGE_SPEC = {
    'feature': 'image',
    'height': 8,
    'width': 8,
    'pixel_min': 0,
    'pixel_max': 16,
    'signature': 'serving_pixels',
    'classes': [str(digit) for digit in range(10)],
}
NUM_PIXELS = IMAGE_SPEC['height'] * IMAGE_SPEC['width']
SERVER_START_TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class Digits:
    images: np.ndarray  # [n, 8, 8] float, 0..16
    pixels: np.ndarray  # [n, 64] float32 rows
    labels: np.ndarray  # [n] int


class _ServingModule(tf.Module):
    """The exported module: one Keras model behind the contract's two signatures."""

    def __init__(self, model: keras.Model, image_spec_path: str):
        super().__init__()
        self.model = model
        self.image_spec = tf.saved_model.Asset(image_spec_path)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name='examples')])
    def serve_examples(self, examples):
        features = tf.io.parse_example(
            examples, {'image': tf.io.FixedLenFeature([NUM_PIXELS], tf.int64)}
        )
        return {'probabilities': self.model(tf.cast(features['image'], tf.float32))}

    @tf.function(input_signature=[tf.TensorSpec([None, NUM_PIXELS], tf.float32, name='image')])
    def serve_pixels(self, image):
        return {'probabilities': self.model(image)}


def train_model(digits: Digits, seed: int, hidden_units: int, epochs: int) -> keras.Model:
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((NUM_PIXELS,)),
            keras.layers.Rescaling(1.0 / IMAGE_SPEC['pixel_max']),
            keras.layers.Dense(hidden_units, activation='relu'),
            keras.layers.Dense(10, activation='softmax'),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss='sparse_categorical_crossentropy')
    model.fit(digits.pixels, digits.labels, epochs=epochs, batch_size=64, verbose=0)
    return model


def export_saved_model(model: keras.Model, export_dir: str) -> None:
    spec_dir = export_dir + '-spec'
    os.makedirs(spec_dir)
    spec_path = os.path.join(spec_dir, 'image_spec.json')
    with open(spec_path, 'w') as f:
        json.dump(IMAGE_SPEC, f)
    module = _ServingModule(model, spec_path)
    tf.saved_model.save(
        module,
        export_dir,
        signatures={
            'serving_default': module.serve_examples,
            'serving_pixels': module.serve_pixels,
        },
    )


def push_version(model_dir: str, version: int, exported: str) -> str:
    """Pushes like the pipeline's Pusher: copy into a hidden staging folder, then rename."""
    os.makedirs(model_dir, exist_ok=True)
    staging = os.path.join(model_dir, f'.staging-{version}')
    shutil.copytree(exported, staging)
    target = os.path.join(model_dir, str(version))
    os.rename(staging, target)
    return target


def serialized_example(pixels: np.ndarray) -> bytes:
    feature = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in pixels]))
    features = tf.train.Features(feature={'image': feature})
    return tf.train.Example(features=features).SerializeToString()


def make_config(root) -> PipelineConfig:
    return PipelineConfig(work_root=str(root / 'work'), model_name=MODEL_NAME)


@dataclasses.dataclass
class LiveServer:
    url: str
    config: PipelineConfig
    client: httpx.Client


@contextlib.contextmanager
def running_server(config: PipelineConfig, options: ServingOptions) -> Iterator[LiveServer]:
    """Runs the stand-in with uvicorn on a free loopback port in a background thread."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(('127.0.0.1', 0))
    port = listener.getsockname()[1]
    server = stand_in.make_server(config, dataclasses.replace(options, port=port))
    thread = threading.Thread(target=server.run, kwargs={'sockets': [listener]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        assert thread.is_alive(), 'the server stopped while starting'
        assert time.monotonic() < deadline, 'the server did not start in time'
        time.sleep(0.05)
    url = f'http://127.0.0.1:{port}'
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            yield LiveServer(url, config, client)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        listener.close()


def drawing_data_url(image_8x8: np.ndarray) -> str:
    """A digit (0..16) drawn 280x280 dark on white, as the page sends it: a PNG data URL."""
    ink = np.kron(image_8x8 / 16.0, np.ones((35, 35)))
    buffer = io.BytesIO()
    Image.fromarray(np.round(255 * (1 - ink)).astype(np.uint8)).save(buffer, format='PNG')
    return 'data:image/png;base64,' + base64.b64encode(buffer.getvalue()).decode('ascii')
