"""Submitting: upload a version, find or create the experiment, start a run; or say what is missing.

The `kfp` client talks to a fake Kubeflow Pipelines REST API on 127.0.0.1 (fake_kfp_server).
"""

import logging

import kfp
import pytest

from runners import kubeflow_runner
from tests.kubeflow.cluster import cluster_config
from tests.kubeflow.fake_kfp_server import FakeKfpServer


@pytest.fixture()
def server(monkeypatch, tmp_path):
    for name in (
        'KF_PIPELINES_ENDPOINT',
        'KF_PIPELINES_UI_ENDPOINT',
        'KF_PIPELINES_IAP_OAUTH2_CLIENT_ID',
        'KF_PIPELINES_APP_OAUTH2_CLIENT_ID',
        'KF_PIPELINES_APP_OAUTH2_CLIENT_SECRET',
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(kfp.Client, '_LOCAL_KFP_CONTEXT', str(tmp_path / 'no-context.json'))
    fake = FakeKfpServer()
    yield fake
    fake.stop()


def _settings(server, **overrides):
    values = dict(kfp_endpoint=server.endpoint, kfp_namespace='team-a', kfp_experiment='digits-ct')
    values.update(overrides)
    return kubeflow_runner.KubeflowSettings(**values)


def test_first_submit_uploads_the_spec_files_the_experiment_and_starts_a_run(server, compiled):
    _, _, spec_path = compiled
    config = cluster_config(schema_dir='gs://digits-test-bucket/schema/digits')

    run_id = kubeflow_runner.submit(spec_path, config, _settings(server))

    state = server.state
    (pipeline,) = state.pipelines.values()
    (version,) = state.versions[pipeline['pipeline_id']]
    (experiment,) = state.experiments.values()
    (run,) = state.runs
    with open(spec_path) as spec_file:
        assert version['spec'] == spec_file.read()
    assert pipeline['display_name'] == 'digits'
    assert experiment == {
        'display_name': 'digits-ct',
        'namespace': 'team-a',
        'experiment_id': experiment['experiment_id'],
    }
    assert run['run_id'] == run_id
    assert run['experiment_id'] == experiment['experiment_id']
    assert run['pipeline_version_reference'] == {
        'pipeline_id': pipeline['pipeline_id'],
        'pipeline_version_id': version['pipeline_version_id'],
    }
    assert run['runtime_config']['pipeline_root'] == 'gs://digits-test-bucket/pipelines'


def test_next_submit_adds_a_version_and_reuses_the_experiment(server, compiled):
    _, _, spec_path = compiled
    config = cluster_config(schema_dir='gs://digits-test-bucket/schema/digits')
    settings = _settings(server, kfp_namespace='', kfp_experiment='')

    kubeflow_runner.submit(spec_path, config, settings)
    kubeflow_runner.submit(spec_path, config, settings)

    state = server.state
    (pipeline_id,) = state.pipelines
    versions = state.versions[pipeline_id]
    (experiment,) = state.experiments.values()
    assert len(versions) == 2
    assert versions[1]['display_name'].startswith('digits-')
    assert experiment['display_name'] == 'digits'
    assert [run['experiment_id'] for run in state.runs] == [experiment['experiment_id']] * 2
    assert (
        state.runs[1]['pipeline_version_reference']['pipeline_version_id']
        == (versions[1]['pipeline_version_id'])
    )
    assert ('GET', '/apis/v2beta1/healthz') in state.requests


def test_local_roots_are_refused_before_any_request(server, compiled):
    _, _, spec_path = compiled

    with pytest.raises(kubeflow_runner.SettingError, match='schema_dir=/'):
        kubeflow_runner.submit(spec_path, cluster_config(), _settings(server))

    assert server.state.requests == []


def test_submit_without_an_endpoint_says_so_and_exits_2(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv('DIGITS_KFP_ENDPOINT', raising=False)
    spec_path = tmp_path / 'pipeline.yaml'

    with caplog.at_level(logging.ERROR):
        status = kubeflow_runner.main(['--submit', '--spec-path', str(spec_path)])

    assert status == 2
    assert 'no Kubeflow Pipelines endpoint to submit to: pass --kfp-endpoint' in caplog.text
    assert not spec_path.exists()


def test_settings_come_from_flags_over_the_environment():
    env = {
        'DIGITS_IMAGE': 'env/image:1',
        'DIGITS_KFP_ENDPOINT': 'http://env',
        'DIGITS_TRAIN_STEPS': '9',
    }

    config, settings, submit = kubeflow_runner.parse_args(['--image', 'flag/image:2'], env)

    assert settings.image == 'flag/image:2'
    assert settings.kfp_endpoint == 'http://env'
    assert settings.kfp_experiment == ''
    assert config.train_steps == 9
    assert submit is False
