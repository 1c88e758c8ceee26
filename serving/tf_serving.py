"""Runs the real TensorFlow Serving where `tensorflow_model_server` is on PATH.

The model server reads the same serving model dir the Pusher writes, with the same version
policy as the stand-in (the newest `num_versions` versions) and the same poll interval. What
only the stand-in offers: the drawing page, the prediction log and a listen address; TF
Serving's REST port listens on every interface.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from typing import NoReturn

from absl import logging

from pipeline.config import PipelineConfig
from serving.options import ServingOptions

BINARY = 'tensorflow_model_server'


def find_binary() -> str | None:
    """Finds the model server.

    Returns:
        Its path, or None when it is not on PATH.
    """
    return shutil.which(BINARY)


def model_config_text(model_name: str, base_path: str, num_versions: int) -> str:
    """Writes a ModelServerConfig text proto serving one model.

    Args:
        model_name: The name clients use in `/v1/models/<name>`.
        base_path: The serving model dir holding the integer version folders.
        num_versions: How many of the newest versions stay loaded.

    Returns:
        The text of the `--model_config_file`.
    """
    return (
        'model_config_list {\n'
        '  config {\n'
        f'    name: {_quoted(model_name)}\n'
        f'    base_path: {_quoted(base_path)}\n'
        '    model_platform: "tensorflow"\n'
        f'    model_version_policy {{ latest {{ num_versions: {num_versions} }} }}\n'
        '  }\n'
        '}\n'
    )


def command_line(binary: str, config_file: str, options: ServingOptions) -> list[str]:
    """Builds the model server's command line.

    Args:
        binary: Path of `tensorflow_model_server`.
        config_file: Path of the file holding `model_config_text`.
        options: Serving settings: port and poll interval.

    Returns:
        The argument vector, binary first.
    """
    return [
        binary,
        f'--rest_api_port={options.port}',
        f'--model_config_file={config_file}',
        # The model server polls in whole seconds, at least one.
        f'--file_system_poll_wait_seconds={max(1, math.ceil(options.poll_interval_s))}',
    ]


def run(binary: str, config: PipelineConfig, options: ServingOptions) -> NoReturn:
    """Replaces this process with the model server.

    Args:
        binary: Path of `tensorflow_model_server`.
        config: Pipeline settings: model name and serving model dir.
        options: Serving settings.
    """
    text = model_config_text(config.model_name, config.serving_model_dir, options.num_versions)
    with tempfile.NamedTemporaryFile(
        'w', prefix='model_server_', suffix='.pbtxt', delete=False
    ) as f:
        f.write(text)
    argv = command_line(binary, f.name, options)
    logging.info('Starting TF Serving: %s', ' '.join(argv))
    logging.warning(
        'TF Serving listens on all interfaces at port %d, and has no drawing page and no '
        'prediction log; run with --backend stand-in for those',
        options.port,
    )
    os.execv(binary, argv)


def _quoted(text: str) -> str:
    return '"' + text.replace('\\', '\\\\').replace('"', '\\"') + '"'
