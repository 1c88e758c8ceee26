"""The stand-in for TF Serving where its binary is not installed: FastAPI on uvicorn.

It loads the same SavedModel with TensorFlow and answers TF Serving's REST API, so clients, the
page and the tests do not care which of the two runs. It is built on FastAPI and uvicorn, which
are well kept and need no particular protobuf. KServe, the obvious ready-made model server, is
not used: its recent releases need protobuf 6, while TFX 1.16 and TensorFlow 2.16 need protobuf
below 5, so the two cannot share one environment.

Beyond TF Serving, the stand-in serves the drawing page at `/` and logs every prediction under
the pipeline root (`PipelineConfig.prediction_log_dir`) unless `--no-prediction-log` is given.
"""

from __future__ import annotations

import uvicorn
from absl import logging
from fastapi import FastAPI

from pipeline.config import PipelineConfig
from serving import rest_api
from serving.model_store import ModelStore
from serving.options import ServingOptions
from serving.prediction_log import PredictionLog

# Seconds that open requests get to finish when the server is asked to stop.
_GRACEFUL_SHUTDOWN_S = 5


def build_app(config: PipelineConfig, options: ServingOptions) -> FastAPI:
    """Wires the model store, the prediction log and the routes together.

    Args:
        config: Pipeline settings: model name, serving model dir, prediction log dir.
        options: Serving settings.

    Returns:
        The ASGI application; it loads the model when the server starts it.
    """
    store = ModelStore(
        config.model_name, config.serving_model_dir, options.num_versions, options.poll_interval_s
    )
    prediction_log = PredictionLog(config.prediction_log_dir) if options.prediction_log else None
    return rest_api.create_app(store, options, prediction_log)


def make_server(config: PipelineConfig, options: ServingOptions) -> uvicorn.Server:
    """Builds the uvicorn server of the stand-in without starting it.

    Args:
        config: Pipeline settings.
        options: Serving settings; host and port say where it listens.

    Returns:
        The server; `run()` serves until interrupted.
    """
    server_config = uvicorn.Config(
        build_app(config, options),
        host=options.host,
        port=options.port,
        access_log=False,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
    )
    return uvicorn.Server(server_config)


def run(config: PipelineConfig, options: ServingOptions) -> None:
    """Serves until interrupted.

    Args:
        config: Pipeline settings.
        options: Serving settings.
    """
    logging.info(
        'Serving %s from %s on http://%s:%d (REST API under /v1/models/%s, page at /); '
        'prediction log %s',
        config.model_name,
        config.serving_model_dir,
        options.host,
        options.port,
        config.model_name,
        config.prediction_log_dir if options.prediction_log else 'off',
    )
    try:
        make_server(config, options).run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down cleanly.
        logging.info('Stopped serving %s', config.model_name)
