"""TF Serving's REST JSON shapes: request bodies to input arrays, outputs back to JSON.

Follows TensorFlow Serving's RESTful API: `instances` (row format, one entry per example) or
`inputs` (columnar format, one entry per named input), an optional `signature_name`, answers as
`predictions` or `outputs` with a single output's name left out, binary strings as
`{"b64": "..."}`, and errors as `{"error": "..."}`. Every check names the input and what was
wrong with it, because the person reading the error has only the message.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from serving.errors import RequestError
from serving.model_store import LoadedVersion

DEFAULT_SIGNATURE = 'serving_default'
_PAYLOAD_TOO_LARGE = 413


@dataclasses.dataclass(frozen=True)
class PredictRequest:
    """A decoded predict request.

    Attributes:
        signature_name: The signature to run.
        inputs: One array per named input, in the input's dtype, batch first.
        row_format: True for `instances` (answer with `predictions`), False for `inputs`.
    """

    signature_name: str
    inputs: dict[str, np.ndarray]
    row_format: bool


def parse_json_object(body: bytes) -> dict[str, Any]:
    """Parses a request body that must be a JSON object.

    Args:
        body: The raw request body.

    Returns:
        The parsed object.

    Raises:
        RequestError: The body is no JSON object.
    """
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise RequestError(f'request body is not valid JSON: {error}') from error
    if not isinstance(payload, dict):
        raise RequestError('request body must be a JSON object, like {"instances": [...]}')
    return payload


def status_response(versions: Sequence[int]) -> dict[str, Any]:
    """Renders GetModelStatusResponse for loaded versions.

    Args:
        versions: Loaded version numbers.

    Returns:
        The JSON body of `GET /v1/models/<name>[/versions/<v>]`.
    """
    return {
        'model_version_status': [
            {
                'version': str(version),
                'state': 'AVAILABLE',
                'status': {'error_code': 'OK', 'error_message': ''},
            }
            for version in versions
        ]
    }


def metadata_response(model_name: str, loaded: LoadedVersion) -> dict[str, Any]:
    """Renders GetModelMetadataResponse with the version's SignatureDefs.

    Args:
        model_name: The served model's name.
        loaded: The version asked about.

    Returns:
        The JSON body of `GET /v1/models/<name>[/versions/<v>]/metadata`.
    """
    return {
        'model_spec': {'name': model_name, 'signature_name': '', 'version': str(loaded.version)},
        'metadata': {'signature_def': {'signature_def': dict(loaded.signature_defs)}},
    }


def decode_predict_request(
    payload: Mapping[str, Any], loaded: LoadedVersion, max_rows: int
) -> PredictRequest:
    """Checks a predict body against a signature and turns it into input arrays.

    Args:
        payload: The parsed JSON body.
        loaded: The version that will answer.
        max_rows: Most rows one request may carry.

    Returns:
        The decoded request.

    Raises:
        RequestError: The body does not fit the signature, or carries too many rows.
    """
    signature_name = payload.get('signature_name') or DEFAULT_SIGNATURE
    if not isinstance(signature_name, str) or signature_name not in loaded.signatures:
        known = ', '.join(sorted(loaded.signatures))
        raise RequestError(
            f'signature_name {signature_name!r} is not a signature of version '
            f'{loaded.version}; it has: {known}'
        )
    specs = loaded.input_specs(signature_name)
    unknown = sorted(set(payload) - {'signature_name', 'instances', 'inputs'})
    if unknown:
        raise RequestError(
            f'unknown key(s) {", ".join(unknown)}: a predict body has "signature_name" and '
            'one of "instances" or "inputs"'
        )
    if ('instances' in payload) == ('inputs' in payload):
        raise RequestError('a predict body needs exactly one of "instances" or "inputs"')

    row_format = 'instances' in payload
    if row_format:
        columns = _rows_to_columns(payload['instances'], list(specs), max_rows)
    else:
        columns = _named_columns(payload['inputs'], list(specs), max_rows)
    inputs = {name: _to_array(name, columns[name], spec) for name, spec in specs.items()}
    return PredictRequest(signature_name, inputs, row_format)


def encode_predict_response(outputs: Mapping[str, np.ndarray], row_format: bool) -> dict[str, Any]:
    """Renders outputs in the shape the request came in.

    Args:
        outputs: One numeric array per named output, batch first.
        row_format: Whether the request used `instances`.

    Returns:
        `{"predictions": ...}` for row requests, `{"outputs": ...}` for columnar ones; a single
        output's name is left out, as TF Serving does.
    """
    if len(outputs) == 1:
        (value,) = outputs.values()
        return {'predictions' if row_format else 'outputs': value.tolist()}
    if not row_format:
        return {'outputs': {name: value.tolist() for name, value in outputs.items()}}
    lists = {name: value.tolist() for name, value in outputs.items()}
    batch = len(next(iter(lists.values())))
    return {'predictions': [{name: rows[i] for name, rows in lists.items()} for i in range(batch)]}


def _is_b64(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {'b64'}


def _rows_to_columns(instances: Any, names: list[str], max_rows: int) -> dict[str, list]:
    """Splits row-format instances into one list per named input."""
    if not isinstance(instances, list):
        raise RequestError('"instances" must be a list with one entry per example')
    if not instances:
        raise RequestError('"instances" is empty: send at least one example')
    if len(instances) > max_rows:
        raise RequestError(
            f'"instances" holds {len(instances):,} rows; the limit is {max_rows:,} per request',
            _PAYLOAD_TOO_LARGE,
        )

    named = [isinstance(row, dict) and not _is_b64(row) for row in instances]
    if not any(named):
        if len(names) != 1:
            raise RequestError(
                f'the signature has inputs {", ".join(names)}: each instance must be an object '
                'naming them'
            )
        return {names[0]: instances}
    if not all(named):
        raise RequestError('mix of named objects and plain values in "instances"')
    for index, row in enumerate(instances):
        _check_names(row, names, f'instance {index}')
    return {name: [row[name] for row in instances] for name in names}


def _named_columns(inputs: Any, names: list[str], max_rows: int) -> dict[str, Any]:
    """Maps columnar inputs to their names."""
    if isinstance(inputs, dict) and not _is_b64(inputs):
        _check_names(inputs, names, '"inputs"')
        columns = dict(inputs)
    elif len(names) == 1:
        columns = {names[0]: inputs}
    else:
        raise RequestError(
            f'the signature has inputs {", ".join(names)}: "inputs" must be an object naming them'
        )
    for name, value in columns.items():
        if isinstance(value, list) and len(value) > max_rows:
            raise RequestError(
                f'input {name!r} holds {len(value):,} rows; the limit is {max_rows:,} per request',
                _PAYLOAD_TOO_LARGE,
            )
    return columns


def _check_names(value: dict, names: list[str], where: str) -> None:
    missing = [name for name in names if name not in value]
    extra = sorted(set(value) - set(names))
    if missing or extra:
        raise RequestError(
            f'{where} names inputs {", ".join(sorted(value)) or "(none)"}; '
            f'the signature takes {", ".join(names)}'
        )


def _to_array(name: str, value: Any, spec: tf.TensorSpec) -> np.ndarray:
    """Converts one input's JSON value to an array of the spec's dtype and checks its shape."""
    if spec.dtype == tf.string:
        array = _string_array(name, value)
    else:
        array = _numeric_array(name, value, spec.dtype)

    if array.ndim == 0:
        raise RequestError(f'input {name!r} must be a list with one entry per row')
    if array.shape[0] == 0:
        raise RequestError(f'input {name!r} holds no rows')
    expected = spec.shape
    if expected.rank is not None and (
        array.ndim != expected.rank
        or any(
            want is not None and want != got
            for want, got in zip(expected, array.shape, strict=True)
        )
    ):
        wanted = [-1 if dim is None else dim for dim in expected.as_list()]
        raise RequestError(
            f'input {name!r} needs shape {wanted} (-1: any batch size), got {list(array.shape)}'
        )
    return array


def _numeric_array(name: str, value: Any, dtype: tf.DType) -> np.ndarray:
    try:
        array = np.asarray(value)
    except ValueError as error:
        raise RequestError(f'input {name!r} is ragged: every row needs the same shape') from error
    if array.dtype.kind in 'US':
        raise RequestError(f'input {name!r} takes numbers ({dtype.name}) but got strings')
    if array.dtype.kind == 'b' and not dtype.is_bool:
        raise RequestError(f'input {name!r} takes numbers ({dtype.name}) but got booleans')
    if array.dtype.kind not in 'biuf':
        raise RequestError(f'input {name!r} takes numbers ({dtype.name}) but got other values')
    if array.dtype.kind == 'f' and dtype.is_integer:
        raise RequestError(f'input {name!r} takes integers ({dtype.name}) but got fractions')
    if array.dtype.kind == 'f' and not np.isfinite(array).all():
        count = int(np.size(array) - np.isfinite(array).sum())
        raise RequestError(
            f'input {name!r} holds {count:,} NaN or infinite value(s); the model takes finite '
            'numbers'
        )
    return array.astype(dtype.as_numpy_dtype)


def _string_array(name: str, value: Any) -> np.ndarray:
    try:
        array = np.array(_decode_strings(name, value), dtype=object)
    except RecursionError as error:
        raise RequestError(f'input {name!r} is nested too deeply') from error
    except ValueError as error:
        raise RequestError(f'input {name!r} is ragged: every row needs the same shape') from error
    if not all(isinstance(item, bytes) for item in array.flat):
        raise RequestError(f'input {name!r} is ragged: every row needs the same shape')
    return array


def _decode_strings(name: str, value: Any) -> Any:
    """Turns strings and `{"b64": ...}` objects into bytes, keeping the nesting."""
    if isinstance(value, list):
        return [_decode_strings(name, item) for item in value]
    if isinstance(value, str):
        return value.encode('utf-8')
    if _is_b64(value) and isinstance(value['b64'], str):
        try:
            return base64.b64decode(value['b64'], validate=True)
        except binascii.Error as error:
            raise RequestError(f'input {name!r} holds invalid base64: {error}') from error
    raise RequestError(
        f'input {name!r} takes strings, or {{"b64": "..."}} for binary data, '
        f'but got {type(value).__name__}'
    )
