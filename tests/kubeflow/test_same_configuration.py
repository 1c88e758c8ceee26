"""The local and the Kubeflow runner hand their orchestrators the same components, same settings."""

import json

import pytest
from google.protobuf import message
from tfx import v1 as tfx
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner
from tfx.utils import proto_utils

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from pipeline.config import PipelineConfig
from runners import kubeflow_runner, local_runner


class _Handed(BaseException):
    """Carries the pipeline out of a runner at the moment it reaches its orchestrator."""

    def __init__(self, pipeline):
        super().__init__('handed over')
        self.pipeline = pipeline


def _normalized(value):
    """Compares run-time parameters by their default and protos by their JSON content."""
    if isinstance(value, tfx.dsl.experimental.RuntimeParameter):
        value = value.default
    if isinstance(value, message.Message):
        value = proto_utils.proto_to_json(value)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _describe(pipeline):
    nodes = {}
    for node in pipeline.components:
        nodes[node.id] = {
            'class': f'{type(node).__module__}.{type(node).__name__}',
            'exec_properties': {k: _normalized(v) for k, v in node.exec_properties.items()},
            'inputs': {
                key: (channel.producer_component_id, channel.output_key)
                for key, channel in node.inputs.items()
            },
            'outputs': sorted(node.outputs),
            'upstream': sorted(upstream.id for upstream in node.upstream_nodes),
        }
    return {
        'name': pipeline.pipeline_info.pipeline_name,
        'root': pipeline.pipeline_info.pipeline_root,
        'beam_args': pipeline.beam_pipeline_args,
        'enable_cache': pipeline.enable_cache,
        'nodes': nodes,
    }


@pytest.fixture()
def config(tmp_path, digits):
    images, labels = digits
    data_root = str(tmp_path / 'data')
    write_span(DigitSet(images[:50].reshape(-1, 8, 8), labels[:50], 'first 50'), data_root, 1)
    return PipelineConfig(
        work_root=str(tmp_path / 'work'), data_root=data_root, train_steps=77, min_accuracy=0.93
    )


def _local_pipeline(config, monkeypatch):
    class CapturingBeamDagRunner:
        def run(self, pipeline):
            raise _Handed(pipeline)

    monkeypatch.setattr(local_runner, 'BeamDagRunner', CapturingBeamDagRunner)
    with pytest.raises(_Handed) as handed:
        local_runner.run(config, verbose=True)
    return handed.value.pipeline


def _kubeflow_pipeline(config, monkeypatch, tmp_path):
    def capture(self, pipeline, parameter_values=None, write_out=True):
        raise _Handed(pipeline)

    monkeypatch.setattr(kubeflow_v2_dag_runner.KubeflowV2DagRunner, 'run', capture)
    with pytest.raises(_Handed) as handed:
        kubeflow_runner.compile_pipeline(config, 'image:1', str(tmp_path / 'spec.yaml'))
    return handed.value.pipeline


def test_both_runners_get_the_same_components_wiring_and_settings(config, monkeypatch, tmp_path):
    local = _describe(_local_pipeline(config, monkeypatch))
    kubeflow = _describe(_kubeflow_pipeline(config, monkeypatch, tmp_path))

    assert kubeflow['nodes'].keys() == local['nodes'].keys()
    for node_id, expected in local['nodes'].items():
        assert kubeflow['nodes'][node_id] == expected, node_id
    assert kubeflow == local


def test_only_the_kubeflow_runner_makes_steps_and_thresholds_runtime_parameters(
    config, monkeypatch, tmp_path
):
    local = {n.id: n for n in _local_pipeline(config, monkeypatch).components}
    kubeflow = {n.id: n for n in _kubeflow_pipeline(config, monkeypatch, tmp_path).components}

    def is_parameter(node, key):
        return isinstance(node.exec_properties[key], tfx.dsl.experimental.RuntimeParameter)

    assert not is_parameter(local['Trainer'], 'train_args')
    assert not is_parameter(local['Evaluator'], 'eval_config')
    assert is_parameter(kubeflow['Trainer'], 'train_args')
    assert is_parameter(kubeflow['Evaluator'], 'eval_config')
    assert _normalized(kubeflow['Trainer'].exec_properties['train_args']) == {'num_steps': 77}
