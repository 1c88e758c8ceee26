"""The Pusher, writing each TF Serving version atomically.

TFX's filesystem Pusher copies files straight into `<base>/<version>/`, `saved_model.pb` last,
so a server polling at the wrong moment sees a half-copied version. On a local filesystem this
executor copies into a hidden staging folder TF Serving ignores (its name is not an integer)
and renames it into place. Object stores such as GCS have no atomic folder rename (a rename
copies object by object), so there it copies everything else first and `saved_model.pb` last,
the file TF Serving waits for.
Versions are Unix seconds, as TFX's, but always above the newest version already there. A model
that is already the newest served version is not pushed again: a rerun that only changes the
thresholds re-blesses the same model, and TF Serving should not reload it under a new number.
"""

import os
import time
from typing import Any

from absl import logging
from tfx import types
from tfx import v1 as tfx
from tfx.components.pusher import executor as pusher_executor
from tfx.dsl.components.base import executor_spec
from tfx.dsl.io import fileio
from tfx.proto import pusher_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, proto_utils

from pipeline import serving_layout

_SAVED_MODEL_PATTERN = r'saved_model\.pb'


def next_version(model_dir: str, now: float | None = None) -> int:
    """The version number for a new push: the current Unix second, above every existing one."""
    existing = serving_layout.list_versions(model_dir)
    current = int(time.time() if now is None else now)
    return max([current] + [version + 1 for version in existing])


def push_atomically(model_path: str, model_dir: str) -> str:
    """Copies a SavedModel to `<model_dir>/<new version>`, complete before it is visible.

    Args:
        model_path: Folder of the SavedModel to push.
        model_dir: TF Serving's model base path.

    Returns:
        The version folder written, or the newest served one when it already holds this model.
    """
    served = serving_layout.latest_version(model_dir)
    if served is not None:
        served_path = os.path.join(model_dir, str(served))
        if serving_layout.same_saved_model(model_path, served_path):
            logging.info('Version %d already serves this model: not pushing it again', served)
            return served_path

    version = next_version(model_dir)
    destination = os.path.join(model_dir, str(version))
    if '://' in model_dir:
        io_utils.copy_dir(model_path, destination, deny_regex_patterns=[_SAVED_MODEL_PATTERN])
        io_utils.copy_file(
            os.path.join(model_path, serving_layout.SAVED_MODEL_FILE),
            os.path.join(destination, serving_layout.SAVED_MODEL_FILE),
        )
    else:
        staging = os.path.join(model_dir, f'{serving_layout.STAGING_PREFIX}{version}')
        if fileio.exists(staging):
            fileio.rmtree(staging)
        io_utils.copy_dir(model_path, staging)
        fileio.rename(staging, destination)
    logging.info('Pushed the blessed model as version %d: %s', version, destination)
    return destination


class AtomicPushExecutor(pusher_executor.Executor):
    """TFX's Pusher executor with an atomic, monotonic filesystem push."""

    def Do(  # noqa: N802 - TFX's executor interface.
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Pushes the model when blessed, and records where; otherwise marks it not pushed."""
        self._log_startup(input_dict, output_dict, exec_properties)
        model_push = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not self.CheckBlessing(input_dict):
            logging.info('The model is not blessed: nothing is pushed')
            self._MarkNotPushed(model_push)
            return

        destination = pusher_pb2.PushDestination()
        proto_utils.json_to_proto(
            exec_properties[standard_component_specs.PUSH_DESTINATION_KEY], destination
        )
        if destination.WhichOneof('destination') != 'filesystem':
            raise ValueError('this Pusher pushes to a filesystem destination only')

        model_path = self.GetModelPath(input_dict)
        serving_path = push_atomically(model_path, destination.filesystem.base_directory)
        io_utils.copy_dir(model_path, model_push.uri)
        self._MarkPushed(
            model_push,
            pushed_destination=serving_path,
            pushed_version=os.path.basename(serving_path),
        )


class Pusher(tfx.components.Pusher):
    """TFX's Pusher component with the atomic filesystem executor."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(AtomicPushExecutor)
