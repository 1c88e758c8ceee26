"""The stand-in's HTTP routes: TF Serving's REST API, the drawing page and the page's endpoint.

TF Serving's API lives under `/v1/models/<name>` (status, metadata, predict). The page is served
at `/`, its files under `/page/assets/`, and it posts drawings to `/page/predict`, which is ours
and no part of TF Serving's API: it takes a picture, turns it into the model's input with
`serving.image_input`, and answers with the top three classes and the version that answered.

Every refused request gets a 4xx status and `{"error": "<what was wrong>"}`; nothing a client
sends stops the server from answering the next request.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Mapping
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from serving import image_input, rest_codec
from serving.errors import RequestError
from serving.model_store import IMAGE_SPEC_ASSET, LoadedVersion, ModelStore
from serving.options import ServingOptions
from serving.prediction_log import PROBABILITIES_OUTPUT, PredictionLog, pixel_rows

PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'page')
MODEL_VERSION_HEADER = 'X-Model-Version'
_TOP_CLASSES = 3
_NOT_FOUND = 404
_CONFLICT = 409
_PAYLOAD_TOO_LARGE = 413
# A failing prediction log is reported at most this often, not once per request.
_LOG_ERROR_INTERVAL_S = 60
# Lines of a TensorFlow error message that locate the failing op rather than explain the failure.
_TF_ERROR_BOILERPLATE = ('Graph execution error', 'Detected at node', '<stack traces', '[[')


class ModelService:
    """What the routes do once HTTP is taken away: find the version, predict, log, answer.

    Its methods run in worker threads, so the event loop keeps accepting requests while the
    model computes.
    """

    def __init__(
        self, store: ModelStore, options: ServingOptions, prediction_log: PredictionLog | None
    ):
        self.store = store
        self.options = options
        self.prediction_log = prediction_log

    def resolve(self, model_name: str, version_text: str | None) -> LoadedVersion:
        """Finds the loaded version a request addresses.

        Args:
            model_name: The name in the URL.
            version_text: The version in the URL, or None for the newest.

        Returns:
            The loaded version.

        Raises:
            RequestError: The model or version is not served.
        """
        store = self.store
        if model_name != store.model_name:
            raise RequestError(
                f'model {model_name!r} is not served here; this server serves {store.model_name!r}',
                _NOT_FOUND,
            )
        version = _version_number(version_text)
        loaded = store.get(version)
        if loaded is not None:
            return loaded

        if version is None:
            raise RequestError(
                f'model {model_name!r} has no loaded version yet: nothing loadable is pushed '
                f'under {store.model_dir}',
                _NOT_FOUND,
            )
        loaded_versions = ', '.join(map(str, store.versions())) or 'none'
        raise RequestError(
            f'version {version} of model {model_name!r} is not loaded; loaded versions: '
            f'{loaded_versions}',
            _NOT_FOUND,
        )

    def predict(self, model_name: str, version_text: str | None, body: bytes) -> Response:
        """Answers TF Serving's predict request.

        Args:
            model_name: The name in the URL.
            version_text: The version in the URL, or None for the newest.
            body: The raw JSON body.

        Returns:
            `predictions` or `outputs`, with the answering version in a response header.
        """
        payload = rest_codec.parse_json_object(body)
        loaded = self.resolve(model_name, version_text)
        request = rest_codec.decode_predict_request(payload, loaded, self.options.max_batch_rows)

        outputs = _run(loaded, request.signature_name, request.inputs)
        self._log(loaded, request.inputs, outputs, 'rest')
        return _json(
            rest_codec.encode_predict_response(outputs, request.row_format),
            headers={MODEL_VERSION_HEADER: str(loaded.version)},
        )

    def page_predict(self, body: bytes) -> Response:
        """Answers the page: a picture in, the top classes and the answering version out.

        Args:
            body: JSON `{"image": "data:image/...;base64,..."}`.

        Returns:
            The model's name and version, the top classes, and the pixels the model received.
        """
        payload = rest_codec.parse_json_object(body)
        data_url = payload.get('image')
        if not isinstance(data_url, str):
            raise RequestError('send {"image": "data:image/png;base64,..."}')
        loaded = self.resolve(self.store.model_name, None)
        spec = loaded.image_spec
        if spec is None or spec.signature not in loaded.signatures:
            raise RequestError(
                f'version {loaded.version} lacks {IMAGE_SPEC_ASSET} or the signature it names, '
                'so the page cannot prepare its input; push a model that has them',
                _CONFLICT,
            )

        pixels = image_input.to_model_pixels(image_input.decode_data_url(data_url), spec)
        (input_name,) = loaded.input_specs(spec.signature)
        inputs = {input_name: pixels[np.newaxis, :]}
        outputs = _run(loaded, spec.signature, inputs)
        self._log(loaded, inputs, outputs, 'page')

        probabilities = outputs[PROBABILITIES_OUTPUT][0]
        ranked = np.argsort(probabilities)[::-1][:_TOP_CLASSES]
        answer = {
            'model_name': self.store.model_name,
            'model_version': str(loaded.version),
            'top_classes': [
                {'class': _class_name(loaded.classes, i), 'probability': float(probabilities[i])}
                for i in ranked
            ],
            'input': {
                'height': spec.height,
                'width': spec.width,
                'pixel_min': spec.pixel_min,
                'pixel_max': spec.pixel_max,
                'pixels': pixels.tolist(),
            },
        }
        return _json(answer, headers={MODEL_VERSION_HEADER: str(loaded.version)})

    def _log(
        self,
        loaded: LoadedVersion,
        inputs: Mapping[str, np.ndarray],
        outputs: Mapping[str, np.ndarray],
        source: str,
    ) -> None:
        spec = loaded.image_spec
        probabilities = outputs.get(PROBABILITIES_OUTPUT)
        if self.prediction_log is None or spec is None or probabilities is None:
            return
        pixels = pixel_rows(inputs, spec)
        if pixels is None:
            return
        try:
            self.prediction_log.write(pixels, probabilities, loaded.version, spec, source)
        except (OSError, tf.errors.OpError) as error:  # The answer matters more than its log.
            logging.log_every_n_seconds(
                logging.ERROR,
                'Could not log predictions to %s (%s); answering without logging. Free disk '
                'space or fix the permissions of the folder.',
                _LOG_ERROR_INTERVAL_S,
                self.prediction_log.path,
                error,
            )


def create_app(
    store: ModelStore, options: ServingOptions, prediction_log: PredictionLog | None
) -> FastAPI:
    """Builds the stand-in's application.

    Starting the application loads the model and starts hot reloading; stopping it stops the
    reloads and closes the prediction log.

    Args:
        store: The model versions to serve.
        options: Request limits.
        prediction_log: Where predictions are logged, or None to log nothing.

    Returns:
        The ASGI application.
    """
    service = ModelService(store, options, prediction_log)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        store.start()
        try:
            yield
        finally:
            store.stop()
            if prediction_log is not None:
                prediction_log.close()

    app = FastAPI(
        title='Digit model server',
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(RequestError, _request_error)
    app.add_exception_handler(HTTPException, _http_error)

    @app.get('/v1/models/{model_name}')
    def model_status(model_name: str) -> Response:
        service.resolve(model_name, None)
        return _json(rest_codec.status_response(store.versions()))

    @app.get('/v1/models/{model_name}/versions/{version}')
    def version_status(model_name: str, version: str) -> Response:
        return _json(rest_codec.status_response([service.resolve(model_name, version).version]))

    @app.get('/v1/models/{model_name}/metadata')
    def model_metadata(model_name: str) -> Response:
        loaded = service.resolve(model_name, None)
        return _json(rest_codec.metadata_response(model_name, loaded))

    @app.get('/v1/models/{model_name}/versions/{version}/metadata')
    def version_metadata(model_name: str, version: str) -> Response:
        loaded = service.resolve(model_name, version)
        return _json(rest_codec.metadata_response(model_name, loaded))

    @app.post('/v1/models/{model_name}:predict')
    async def model_predict(model_name: str, request: Request) -> Response:
        body = await _read_body(request, options.max_body_bytes)
        return await run_in_threadpool(service.predict, model_name, None, body)

    @app.post('/v1/models/{model_name}/versions/{version}:predict')
    async def version_predict(model_name: str, version: str, request: Request) -> Response:
        body = await _read_body(request, options.max_body_bytes)
        return await run_in_threadpool(service.predict, model_name, version, body)

    @app.get('/')
    def page() -> FileResponse:
        return FileResponse(os.path.join(PAGE_DIR, 'index.html'))

    @app.post('/page/predict')
    async def page_predict(request: Request) -> Response:
        body = await _read_body(request, options.max_body_bytes)
        return await run_in_threadpool(service.page_predict, body)

    app.mount('/page/assets', StaticFiles(directory=PAGE_DIR), name='page-assets')
    return app


def _class_name(classes: tuple[str, ...], index: int) -> str:
    """The class's name from the image spec, or its index where the spec names no classes."""
    return classes[index] if index < len(classes) else str(index)


def _version_number(text: str | None) -> int | None:
    if text is None:
        return None
    if not re.fullmatch(r'[0-9]+', text):
        raise RequestError(f'version {text!r} is not a whole number')
    return int(text)


def _run(loaded: LoadedVersion, signature_name: str, inputs: Mapping[str, np.ndarray]):
    """Runs the model, turning TensorFlow's complaints about the input into a 400."""
    try:
        return loaded.predict(signature_name, inputs)
    except tf.errors.InvalidArgumentError as error:
        raise RequestError(
            f'version {loaded.version} rejected the input of {signature_name!r}: '
            f'{_tf_error_summary(error.message)}'
        ) from error


def _tf_error_summary(message: str) -> str:
    """The line of a TensorFlow error that says what was wrong, without graph boilerplate."""
    lines = message.splitlines()
    useful = [
        line
        for line in lines
        if line and not line[0].isspace() and not line.startswith(_TF_ERROR_BOILERPLATE)
    ]
    return useful[-1] if useful else lines[0]


async def _read_body(request: Request, limit: int) -> bytes:
    """Reads the body, refusing it as soon as it is known to exceed the limit."""
    declared = request.headers.get('content-length', '')
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise RequestError(
            f'request body of {int(declared):,} bytes exceeds the limit of {limit:,} bytes',
            _PAYLOAD_TOO_LARGE,
        )
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(
                f'request body exceeds the limit of {limit:,} bytes', _PAYLOAD_TOO_LARGE
            )
        chunks.append(chunk)
    return b''.join(chunks)


def _json(payload: Any, status_code: int = 200, headers: Mapping[str, str] | None = None):
    """A JSON response that, like TF Serving, writes NaN and Infinity as tokens."""
    return Response(
        json.dumps(payload, separators=(',', ':')),
        status_code=status_code,
        media_type='application/json',
        headers=headers,
    )


async def _request_error(request: Request, error: RequestError) -> Response:
    logging.debug('Refused %s %s: %s', request.method, request.url.path, error.message)
    return _json({'error': error.message}, error.status_code)


async def _http_error(request: Request, error: HTTPException) -> Response:
    if error.status_code == _NOT_FOUND:
        message = (
            f'no endpoint at {request.url.path}; the REST API is under /v1/models/<name>, the '
            'page at /'
        )
    else:
        message = f'{request.method} {request.url.path}: {error.detail}'
    return _json({'error': message}, error.status_code, getattr(error, 'headers', None))
