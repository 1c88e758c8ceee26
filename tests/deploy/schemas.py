"""Offline validation of rendered manifests: Kubernetes objects and Istio resources.

Kubernetes objects are checked against the OpenAPI types bundled with the `kubernetes` Python
client (each model's `openapi_types` and `attribute_map`, generated from the API's OpenAPI
spec): every field must exist in its type (no unknown fields, as `kubectl --validate=strict`
demands), every value must have the field's type, and every required field must be present (the
client's models refuse a missing one). A few rules the API server adds to the schema are checked
too: object and port names, label syntax, resource quantities, and that a Deployment's selector
matches its pod labels.

Istio's VirtualService and DestinationRule are checked against JSON Schemas written here from
Istio's networking API reference (networking.istio.io, v1alpha3/v1beta1/v1), covering the fields
such routes use and refusing unknown ones.
"""

import json
import re

import jsonschema
from kubernetes import client

KUBERNETES_MODELS = {
    ('v1', 'ConfigMap'): 'V1ConfigMap',
    ('v1', 'Namespace'): 'V1Namespace',
    ('v1', 'Service'): 'V1Service',
    ('v1', 'ServiceAccount'): 'V1ServiceAccount',
    ('apps/v1', 'Deployment'): 'V1Deployment',
}
ISTIO_VERSIONS = [
    'networking.istio.io/v1alpha3',
    'networking.istio.io/v1beta1',
    'networking.istio.io/v1',
]

_PRIMITIVES = {'str': str, 'int': int, 'float': (int, float), 'bool': bool, 'datetime': str}
_DNS_LABEL = r'[a-z0-9]([-a-z0-9]*[a-z0-9])?'
_DNS_SUBDOMAIN = re.compile(rf'{_DNS_LABEL}(\.{_DNS_LABEL})*')
_PORT_NAME = re.compile(r'(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?')
_LABEL_VALUE = re.compile(r'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')
_LABEL_KEY = re.compile(
    rf'(({_DNS_SUBDOMAIN.pattern})/)?([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)'
)
_QUANTITY = re.compile(r'[+-]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?\d+))?')


class _Response:
    """What ApiClient.deserialize reads: a body under `data`."""

    def __init__(self, document):
        self.data = json.dumps(document)


def _walk(value, type_name, path, errors):
    if type_name == 'object':
        return
    if type_name in _PRIMITIVES:
        expected = _PRIMITIVES[type_name]
        if isinstance(value, bool) and type_name != 'bool' or not isinstance(value, expected):
            errors.append(f'{path}: expected {type_name}, got {value!r}')
        return
    listed = re.fullmatch(r'list\[(.+)\]', type_name)
    if listed:
        if not isinstance(value, list):
            errors.append(f'{path}: expected a list, got {value!r}')
            return
        for index, item in enumerate(value):
            _walk(item, listed.group(1), f'{path}[{index}]', errors)
        return
    mapped = re.fullmatch(r'dict\(str, (.+)\)', type_name)
    if mapped:
        if not isinstance(value, dict):
            errors.append(f'{path}: expected a map, got {value!r}')
            return
        for key, item in value.items():
            _walk(item, mapped.group(1), f'{path}.{key}', errors)
        return
    model = getattr(client, type_name)
    if not isinstance(value, dict):
        errors.append(f'{path}: expected a {type_name} object, got {value!r}')
        return
    attributes = {json_name: attribute for attribute, json_name in model.attribute_map.items()}
    for key, item in value.items():
        if key not in attributes:
            errors.append(f'{path}: unknown field {key!r} in {type_name}')
            continue
        _walk(item, model.openapi_types[attributes[key]], f'{path}.{key}', errors)


def _check_names_and_labels(document, errors):
    metadata = document.get('metadata', {})
    if not _DNS_SUBDOMAIN.fullmatch(metadata.get('name', '')):
        errors.append(f'metadata.name {metadata.get("name")!r} is not a DNS subdomain')
    for key, value in metadata.get('labels', {}).items():
        if not _LABEL_KEY.fullmatch(key) or not _LABEL_VALUE.fullmatch(value) or len(value) > 63:
            errors.append(f'label {key}={value} is not a valid label')


def _check_deployment(document, errors):
    spec = document['spec']
    pod_labels = spec['template']['metadata'].get('labels', {})
    for key, value in spec['selector'].get('matchLabels', {}).items():
        if pod_labels.get(key) != value:
            errors.append(f'selector {key}={value} does not match the pod labels {pod_labels}')
    pod = spec['template']['spec']
    volumes = {volume['name'] for volume in pod.get('volumes', [])}
    for container in pod['containers']:
        ports = {port.get('name') for port in container.get('ports', [])}
        for port in container.get('ports', []):
            if 'name' in port and not (
                _PORT_NAME.fullmatch(port['name']) and len(port['name']) <= 15
            ):
                errors.append(f'port name {port["name"]!r} is not an IANA service name')
        for probe_name in ('startupProbe', 'readinessProbe', 'livenessProbe'):
            port = container.get(probe_name, {}).get('httpGet', {}).get('port')
            if isinstance(port, str) and port not in ports:
                errors.append(f'{probe_name} names port {port!r}, not a port of the container')
        for kind, quantities in container.get('resources', {}).items():
            for resource, quantity in quantities.items():
                if not _QUANTITY.fullmatch(str(quantity)):
                    errors.append(f'resources.{kind}.{resource}: {quantity!r} is not a quantity')
        for mount in container.get('volumeMounts', []):
            if mount['name'] not in volumes:
                errors.append(f'volume mount {mount["name"]!r} names no volume of the pod')


def validate_kubernetes(document):
    """Every problem found in one Kubernetes object; an empty list when it is valid."""
    key = (document.get('apiVersion'), document.get('kind'))
    if key not in KUBERNETES_MODELS:
        return [f'no schema for {key}']
    model = KUBERNETES_MODELS[key]
    errors = []
    _walk(document, model, document['kind'], errors)
    if errors:
        return errors
    try:
        client.ApiClient().deserialize(_Response(document), model)
    except ValueError as error:
        errors.append(f'{document["kind"]}: {error}')
    _check_names_and_labels(document, errors)
    if document['kind'] == 'Deployment':
        _check_deployment(document, errors)
    return errors


_STRING_MAP = {'type': 'object', 'additionalProperties': {'type': 'string'}}
_NAME = {'type': 'string', 'pattern': f'^{_DNS_LABEL}$'}
_METADATA = {
    'type': 'object',
    'required': ['name'],
    'properties': {
        'name': _NAME,
        'namespace': _NAME,
        'labels': _STRING_MAP,
        'annotations': _STRING_MAP,
    },
    'additionalProperties': False,
}
_PORT_SELECTOR = {
    'type': 'object',
    'properties': {'number': {'type': 'integer', 'minimum': 1, 'maximum': 65535}},
    'additionalProperties': False,
}
_DESTINATION = {
    'type': 'object',
    'required': ['host'],
    'properties': {'host': {'type': 'string'}, 'subset': _NAME, 'port': _PORT_SELECTOR},
    'additionalProperties': False,
}
_STRING_MATCH = {
    'type': 'object',
    'minProperties': 1,
    'maxProperties': 1,
    'properties': {k: {'type': 'string'} for k in ('exact', 'prefix', 'regex')},
    'additionalProperties': False,
}
_HTTP_ROUTE = {
    'type': 'object',
    'properties': {
        'name': {'type': 'string'},
        'match': {
            'type': 'array',
            'items': {
                'type': 'object',
                'properties': {
                    'name': {'type': 'string'},
                    'uri': _STRING_MATCH,
                    'headers': {'type': 'object', 'additionalProperties': _STRING_MATCH},
                    'port': {'type': 'integer'},
                },
                'additionalProperties': False,
            },
        },
        'route': {
            'type': 'array',
            'minItems': 1,
            'items': {
                'type': 'object',
                'required': ['destination'],
                'properties': {
                    'destination': _DESTINATION,
                    'weight': {'type': 'integer', 'minimum': 0, 'maximum': 100},
                },
                'additionalProperties': False,
            },
        },
        'timeout': {'type': 'string', 'pattern': r'^\d+(\.\d+)?(ms|s|m|h)$'},
        'retries': {
            'type': 'object',
            'properties': {
                'attempts': {'type': 'integer', 'minimum': 0},
                'perTryTimeout': {'type': 'string'},
                'retryOn': {'type': 'string'},
            },
            'additionalProperties': False,
        },
    },
    'additionalProperties': False,
}


def _istio_resource(kind, spec):
    return {
        'type': 'object',
        'required': ['apiVersion', 'kind', 'metadata', 'spec'],
        'properties': {
            'apiVersion': {'enum': ISTIO_VERSIONS},
            'kind': {'const': kind},
            'metadata': _METADATA,
            'spec': spec,
        },
        'additionalProperties': False,
    }


ISTIO_SCHEMAS = {
    'VirtualService': _istio_resource(
        'VirtualService',
        {
            'type': 'object',
            'required': ['hosts'],
            'properties': {
                'hosts': {'type': 'array', 'minItems': 1, 'items': {'type': 'string'}},
                'gateways': {'type': 'array', 'items': {'type': 'string'}},
                'http': {'type': 'array', 'items': _HTTP_ROUTE},
                'exportTo': {'type': 'array', 'items': {'type': 'string'}},
            },
            'additionalProperties': False,
        },
    ),
    'DestinationRule': _istio_resource(
        'DestinationRule',
        {
            'type': 'object',
            'required': ['host'],
            'properties': {
                'host': {'type': 'string'},
                'subsets': {
                    'type': 'array',
                    'items': {
                        'type': 'object',
                        'required': ['name'],
                        'properties': {
                            'name': _NAME,
                            'labels': _STRING_MAP,
                            'trafficPolicy': {'type': 'object'},
                        },
                        'additionalProperties': False,
                    },
                },
                'trafficPolicy': {'type': 'object'},
                'exportTo': {'type': 'array', 'items': {'type': 'string'}},
            },
            'additionalProperties': False,
        },
    ),
}


def validate_istio(document):
    """Every problem found in one Istio resource; an empty list when it is valid."""
    schema = ISTIO_SCHEMAS.get(document.get('kind'))
    if schema is None:
        return [f'no schema for Istio kind {document.get("kind")}']
    validator = jsonschema.Draft7Validator(schema)
    return [f'{list(e.absolute_path)}: {e.message}' for e in validator.iter_errors(document)]


def validate(document):
    """Every problem found in one rendered object, Kubernetes or Istio."""
    if str(document.get('apiVersion', '')).startswith('networking.istio.io/'):
        return validate_istio(document)
    return validate_kubernetes(document)
