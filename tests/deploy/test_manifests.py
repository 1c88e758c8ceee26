"""The serving manifests: every overlay renders with kubectl and every object validates offline.

`kubectl kustomize` renders each kustomization (no cluster is contacted); schemas.py says what
is validated and against what.
"""

import copy
import functools
import os
import re
import shutil
import subprocess

import pytest
import yaml

from pipeline.config import PipelineConfig
from tests.conftest import PROJECT_ROOT
from tests.deploy import schemas

DEPLOY = os.path.join(PROJECT_ROOT, 'deploy')
KUSTOMIZATIONS = ['base', 'overlays/anthos', 'overlays/canary']
MODEL = PipelineConfig().model_name
REST_PORT = 8501


@functools.cache
def render(kustomization):
    kubectl = shutil.which('kubectl')
    assert kubectl, 'kubectl is needed to render the manifests: apt-get install kubernetes-client'
    result = subprocess.run(
        [kubectl, 'kustomize', os.path.join(DEPLOY, kustomization)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


def objects(kustomization, kind):
    return [document for document in render(kustomization) if document['kind'] == kind]


def model_configs(kustomization):
    """Each Deployment's name with the TF Serving model config its pods mount."""
    configs = {c['metadata']['name']: c['data'] for c in objects(kustomization, 'ConfigMap')}
    found = {}
    for deployment in objects(kustomization, 'Deployment'):
        pod = deployment['spec']['template']['spec']
        (volume,) = [v for v in pod['volumes'] if 'configMap' in v]
        (mount,) = [m for m in pod['containers'][0]['volumeMounts'] if m['name'] == volume['name']]
        flag = f'--model_config_file={mount["mountPath"]}/models.config'
        assert flag in pod['containers'][0]['args']
        found[deployment['metadata']['name']] = configs[volume['configMap']['name']][
            'models.config'
        ]
    return found


def route_weights(kustomization):
    (service,) = objects(kustomization, 'VirtualService')
    (route,) = service['spec']['http']
    return {entry['destination']['subset']: entry['weight'] for entry in route['route']}


@pytest.mark.parametrize('kustomization', KUSTOMIZATIONS)
def test_every_object_of_every_kustomization_validates(kustomization):
    problems = {
        f'{document["kind"]}/{document["metadata"]["name"]}': schemas.validate(document)
        for document in render(kustomization)
    }

    assert {name: errors for name, errors in problems.items() if errors} == {}
    assert {'Deployment', 'Service', 'ConfigMap'} <= {d['kind'] for d in render(kustomization)}


def test_the_validators_refuse_what_the_api_server_would_refuse():
    deployment = objects('base', 'Deployment')[0]

    def errors_after(change):
        document = copy.deepcopy(deployment)
        change(document['spec']['template']['spec']['containers'][0])
        return ' '.join(schemas.validate(document))

    route = copy.deepcopy(objects('overlays/canary', 'VirtualService')[0])
    route['spec']['http'][0]['route'][0]['weigth'] = 90

    assert "unknown field 'prot'" in errors_after(
        lambda c: c['readinessProbe']['httpGet'].update(prot=REST_PORT)
    )
    assert '`name`, must not be `None`' in errors_after(lambda c: c.pop('name'))
    assert "'lots' is not a quantity" in errors_after(
        lambda c: c['resources']['limits'].update(memory='lots')
    )
    assert "names port 'rest'" in errors_after(
        lambda c: c['livenessProbe']['httpGet'].update(port='rest')
    )
    assert "'weigth' was unexpected" in ' '.join(schemas.validate(route))


@pytest.mark.parametrize('kustomization', KUSTOMIZATIONS)
def test_tf_serving_is_the_official_image_pinned_with_probes_and_resources(kustomization):
    for deployment in objects(kustomization, 'Deployment'):
        (container,) = deployment['spec']['template']['spec']['containers']
        ports = {port['name']: port['containerPort'] for port in container['ports']}

        assert re.fullmatch(r'tensorflow/serving:\d+\.\d+\.\d+', container['image'])
        for probe in ('readinessProbe', 'livenessProbe'):
            http_get = container[probe]['httpGet']
            assert http_get['path'] == f'/v1/models/{MODEL}'
            assert ports.get(http_get['port'], http_get['port']) == REST_PORT
        assert f'--rest_api_port={REST_PORT}' in container['args']
        assert set(container['resources']) == {'requests', 'limits'}
        assert set(container['resources']['requests']) == {'cpu', 'memory'}
        assert set(container['resources']['limits']) == {'cpu', 'memory'}


@pytest.mark.parametrize('kustomization', ['overlays/anthos', 'overlays/canary'])
def test_serving_reads_the_versions_the_pusher_writes_under_the_serving_root(kustomization):
    for name, config in model_configs(kustomization).items():
        base_path = re.search(r'base_path: "([^"]+)"', config).group(1)

        assert f'name: "{MODEL}"' in config, name
        assert base_path.startswith('gs://') and base_path.endswith(f'/serving/{MODEL}'), name


def test_mesh_routes_reach_the_pods_through_the_service():
    for kustomization in ('overlays/anthos', 'overlays/canary'):
        (service,) = objects(kustomization, 'Service')
        (rule,) = objects(kustomization, 'DestinationRule')
        (virtual,) = objects(kustomization, 'VirtualService')
        pods = [
            d['spec']['template']['metadata']['labels']
            for d in objects(kustomization, 'Deployment')
        ]
        subsets = {subset['name']: subset['labels'] for subset in rule['spec']['subsets']}
        name = service['metadata']['name']

        assert rule['spec']['host'] == name and virtual['spec']['hosts'] == [name]
        for labels in pods:
            assert service['spec']['selector'].items() <= labels.items()
        for subset in route_weights(kustomization):
            assert any(subsets[subset].items() <= labels.items() for labels in pods), subset
        assert all(p['name'].startswith(('http', 'grpc')) for p in service['spec']['ports'])


def test_without_canary_all_traffic_goes_to_the_stable_pods():
    assert route_weights('overlays/anthos') == {'stable': 100}
    assert len(objects('overlays/anthos', 'Deployment')) == 1


def test_canary_weights_sum_to_100_with_a_10_to_20_percent_canary():
    weights = route_weights('overlays/canary')

    assert set(weights) == {'stable', 'canary'}
    assert sum(weights.values()) == 100
    assert 10 <= weights['canary'] <= 20


def test_canary_pins_stable_to_one_version_and_follows_the_newest_push():
    configs = model_configs('overlays/canary')

    assert re.search(r'specific \{ versions: \d+ \}', configs['digits-serving'])
    assert 'latest { num_versions: 1 }' in configs['digits-serving-canary']
    assert len({re.search(r'base_path: "([^"]+)"', c).group(1) for c in configs.values()}) == 1
