"""Finds, loads and hot-reloads pushed model versions, as TF Serving's file system source does.

The pipeline's Pusher lays versions out as TF Serving expects: `<model dir>/<integer>/` holding
`saved_model.pb`, `variables/` and `assets/`. Which folders count as versions is decided in one
place, `pipeline.serving_layout` (an integer name, `saved_model.pb` and the variables index):
our Pusher renames a finished `.staging-<version>` folder into place, and TFX's stock Pusher
copies `saved_model.pb` last. A version that still fails to load (variable data still being
copied) is skipped and retried on the next scan, while the versions loaded before it keep
answering.

Version policy: the newest `num_versions` loadable versions stay loaded (2 by default, like TF
Serving's `latest { num_versions: 2 }`); requests without a version go to the newest, older ones
stay addressable by number until a newer push pushes them out.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging
from google.protobuf import json_format
from tensorflow.core.protobuf import saved_model_pb2

from models.image_spec import IMAGE_SPEC_FILE, ImageSpec
from pipeline import serving_layout

IMAGE_SPEC_ASSET = os.path.join('assets', IMAGE_SPEC_FILE)


@dataclasses.dataclass(frozen=True)
class LoadedVersion:
    """One loaded SavedModel version.

    Attributes:
        version: The version number, the name of its folder.
        path: The version's folder.
        signatures: Callable serving signatures by name.
        signature_defs: The SignatureDefs stored in `saved_model.pb`, as TF Serving's metadata
            API renders them in JSON.
        image_spec: The model's image spec, or None when the asset is missing.
        classes: Class names in the order of the model's probabilities, from the same asset;
            empty when it names none.
        saved_model: The loaded object; holding it keeps the variables alive.
    """

    version: int
    path: str
    signatures: Mapping[str, Any]
    signature_defs: Mapping[str, Any]
    image_spec: ImageSpec | None
    classes: tuple[str, ...]
    saved_model: Any

    def input_specs(self, signature_name: str) -> dict[str, tf.TensorSpec]:
        """The named inputs of one signature.

        Args:
            signature_name: A key of `signatures`.

        Returns:
            Input name to dtype and shape, in the signature's order.
        """
        return dict(self.signatures[signature_name].structured_input_signature[1])

    def predict(self, signature_name: str, inputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
        """Runs one signature on a batch.

        Args:
            signature_name: A key of `signatures`.
            inputs: One array per named input, already in the input's dtype and shape.

        Returns:
            One numpy array per named output.
        """
        function = self.signatures[signature_name]
        outputs = function(**{name: tf.constant(value) for name, value in inputs.items()})
        return {name: tensor.numpy() for name, tensor in outputs.items()}


def load_version(path: str, version: int) -> LoadedVersion:
    """Loads one version with TensorFlow.

    Args:
        path: The version's folder.
        version: The version number.

    Returns:
        The loaded version.

    Raises:
        Exception: Whatever TensorFlow raises for a folder that is incomplete or corrupt.
    """
    saved_model = tf.saved_model.load(path)

    proto = saved_model_pb2.SavedModel()
    with tf.io.gfile.GFile(os.path.join(path, serving_layout.SAVED_MODEL_FILE), 'rb') as f:
        proto.ParseFromString(f.read())
    signature_defs = {
        name: json_format.MessageToDict(
            signature_def, including_default_value_fields=True, preserving_proto_field_name=True
        )
        for name, signature_def in proto.meta_graphs[0].signature_def.items()
    }

    spec_path = os.path.join(path, IMAGE_SPEC_ASSET)
    image_spec, classes = None, ()
    if tf.io.gfile.exists(spec_path):
        with tf.io.gfile.GFile(spec_path) as f:
            text = f.read()
        image_spec = ImageSpec.from_json(text)
        classes = tuple(str(name) for name in json.loads(text).get('classes', ()))
    return LoadedVersion(
        version=version,
        path=path,
        signatures=dict(saved_model.signatures),
        signature_defs=signature_defs,
        image_spec=image_spec,
        classes=classes,
        saved_model=saved_model,
    )


class ModelStore:
    """Keeps the newest loadable versions of one model loaded and swaps in new ones.

    Reads are lock-free snapshots, so a request keeps the version it started with even when a
    scan swaps versions underneath it.
    """

    def __init__(self, model_name: str, model_dir: str, num_versions: int, poll_interval_s: float):
        self.model_name = model_name
        self.model_dir = model_dir
        self._num_versions = num_versions
        self._poll_interval_s = poll_interval_s
        self._loaded: dict[int, LoadedVersion] = {}
        self._reported_failures: dict[int, str] = {}
        self._poll_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def versions(self) -> list[int]:
        """The loaded version numbers, newest first."""
        return sorted(self._loaded, reverse=True)

    def get(self, version: int | None = None) -> LoadedVersion | None:
        """Looks up a loaded version.

        Args:
            version: A version number, or None for the newest loaded one.

        Returns:
            The loaded version, or None when it is not loaded.
        """
        loaded = self._loaded
        if version is None:
            return loaded[max(loaded)] if loaded else None
        return loaded.get(version)

    def poll(self) -> None:
        """Scans the model dir once: loads new versions and unloads the surplus."""
        with self._poll_lock:
            current = self._loaded
            keep: dict[int, LoadedVersion] = {}
            for version in reversed(serving_layout.list_versions(self.model_dir)):
                if len(keep) == self._num_versions:
                    break
                path = os.path.join(self.model_dir, str(version))
                loaded = current.get(version) or self._try_load(path, version)
                if loaded is not None:
                    keep[version] = loaded
            self._loaded = keep

        if set(keep) != set(current):
            unloaded = sorted(set(current) - set(keep))
            logging.info(
                'Serving %s %s; newest answers requests without a version%s',
                self.model_name,
                self._describe(),
                f'; unloaded {", ".join(map(str, unloaded))}' if unloaded else '',
            )

    def start(self) -> None:
        """Loads what is there now, then keeps scanning in a background thread."""
        self.poll()
        if not self._loaded:
            logging.warning(
                'No loadable version of %s under %s yet; push one (run the pipeline) and it '
                'will be picked up within %.1f s',
                self.model_name,
                self.model_dir,
                self._poll_interval_s,
            )
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll_forever, name='model-poller', daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops the background scans and waits for a running one to finish."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _poll_forever(self) -> None:
        while not self._stop.wait(self._poll_interval_s):
            try:
                self.poll()
            except Exception:  # A failed scan must not end hot reloading for good.
                logging.exception('Scanning %s failed; retrying', self.model_dir)

    def _try_load(self, path: str, version: int) -> LoadedVersion | None:
        start = time.monotonic()
        try:
            loaded = load_version(path, version)
        except Exception as error:  # An incomplete copy fails in many ways; all mean "not yet".
            message = f'{type(error).__name__}: {error}'.splitlines()[0]
            if self._reported_failures.get(version) != message:
                self._reported_failures[version] = message
                logging.warning(
                    'Version %d of %s at %s does not load yet (%s); still serving %s and '
                    'retrying every %.1f s. If the folder stays incomplete, push again or '
                    'remove it.',
                    version,
                    self.model_name,
                    path,
                    message,
                    self._describe(),
                    self._poll_interval_s,
                )
            return None
        self._reported_failures.pop(version, None)
        logging.info(
            'Loaded %s version %d from %s in %.2f s (%d signatures)',
            self.model_name,
            version,
            loaded.path,
            time.monotonic() - start,
            len(loaded.signatures),
        )
        return loaded

    def _describe(self) -> str:
        versions = self.versions()
        return 'version(s) ' + ', '.join(map(str, versions)) if versions else 'no version'
