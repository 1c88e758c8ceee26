"""The compiled spec: the local pipeline's DAG, run only by what the open-source backend runs."""

import copy
import json

import pytest
import tensorflow_model_analysis as tfma
from google.protobuf import json_format
from kfp.client import client as kfp_client
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.proto import trainer_pb2
from tfx.utils import proto_utils

from pipeline.pipeline import EVAL_CONFIG_PARAMETER, TRAIN_ARGS_PARAMETER, create_pipeline
from runners import kubeflow_entrypoint, kubeflow_runner
from tests.kubeflow.cluster import IMAGE

DEFAULTS = {TRAIN_ARGS_PARAMETER: '{}', EVAL_CONFIG_PARAMETER: '{}'}


def _executor(spec, task_name):
    task = spec['root']['dag']['tasks'][task_name]
    component = spec['components'][task['componentRef']['name']]
    return spec['deploymentSpec']['executors'][component['executorLabel']]


def _containers(spec):
    for name in spec['root']['dag']['tasks']:
        executor = _executor(spec, name)
        if 'container' in executor:
            yield name, executor['container']


def test_spec_loads_as_the_kfp_client_uploads_it(compiled):
    _, _, spec_path = compiled

    document = kfp_client._extract_pipeline_yaml(spec_path)

    assert document.pipeline_spec.pipeline_info.name == 'digits'
    assert document.pipeline_spec.schema_version == '2.1.0'


def test_one_task_per_pipeline_node_with_the_local_dependencies(compiled):
    spec, config, _ = compiled
    nodes = create_pipeline(config).components

    tasks = spec['root']['dag']['tasks']

    assert set(tasks) == {node.id for node in nodes}
    for node in nodes:
        expected = {upstream.id for upstream in node.upstream_nodes}
        assert set(tasks[node.id].get('dependentTasks', [])) == expected, node.id


def test_every_executor_is_a_container_or_an_importer(compiled):
    spec, _, _ = compiled

    kinds = {name: set(_executor(spec, name)) for name in spec['root']['dag']['tasks']}

    assert all(kind in ({'container'}, {'importer'}) for kind in kinds.values()), kinds
    assert kinds['CuratedSchema'] == {'importer'}


def test_no_task_depends_on_a_hook_the_backend_ignores(compiled):
    spec, _, _ = compiled

    assert 'lifecycle' not in json.dumps(spec['deploymentSpec'])
    example_gen_args = _executor(spec, 'ImportExampleGen')['container']['args']
    assert kubeflow_entrypoint.EXAMPLE_GEN_DRIVER_FLAG in example_gen_args
    others = [name for name, c in _containers(spec) if '--example_gen_driver' in c['args']]
    assert others == ['ImportExampleGen']


def test_example_gen_is_never_cached_so_a_new_span_is_always_read(compiled):
    spec, _, _ = compiled
    tasks = spec['root']['dag']['tasks']

    assert tasks['ImportExampleGen']['cachingOptions'] == {'enableCache': False}
    assert tasks['Trainer']['cachingOptions'] == {'enableCache': True}


def test_every_container_runs_the_configured_image_and_the_entry_point(compiled):
    spec, _, _ = compiled

    containers = dict(_containers(spec))

    assert len(containers) == len(spec['root']['dag']['tasks']) - 1
    for container in containers.values():
        assert container['image'] == IMAGE
        assert container['command'] == list(kubeflow_runner.ENTRYPOINT_COMMAND)
        flags, beam_args = kubeflow_entrypoint.parse_flags(container['args'])
        assert flags.json_serialized_invocation_args == '{{$}}'
        assert beam_args[0] == '--runner=DirectRunner'


def test_each_container_carries_its_component_output_types(compiled):
    spec, _, _ = compiled

    flags, _ = kubeflow_entrypoint.parse_flags(_executor(spec, 'Trainer')['container']['args'])
    outputs = json_format.Parse(
        flags.json_serialized_outputs_spec_args, pipeline_spec_pb2.ComponentOutputsSpec()
    )

    assert set(outputs.artifacts) == {'model', 'model_run'}
    assert 'title: tfx.Model\n' in outputs.artifacts['model'].artifact_type.instance_schema


def test_training_steps_and_thresholds_are_runtime_parameters_with_defaults(compiled):
    spec, config, _ = compiled
    parameters = spec['root']['inputDefinitions']['parameters']
    tasks = spec['root']['dag']['tasks']

    train_args = proto_utils.json_to_proto(
        parameters[TRAIN_ARGS_PARAMETER]['defaultValue'], trainer_pb2.TrainArgs()
    )
    eval_config = proto_utils.json_to_proto(
        parameters[EVAL_CONFIG_PARAMETER]['defaultValue'], tfma.EvalConfig()
    )

    assert set(parameters) == {TRAIN_ARGS_PARAMETER, EVAL_CONFIG_PARAMETER}
    assert all(p['parameterType'] == 'STRING' and p['isOptional'] for p in parameters.values())
    assert train_args.num_steps == config.train_steps == 120
    threshold = eval_config.metrics_specs[0].metrics[1].per_slice_thresholds[0].threshold
    assert threshold.value_threshold.lower_bound.value == pytest.approx(0.92)
    assert threshold.change_threshold.absolute.value == pytest.approx(-0.02)
    train_input = tasks['Trainer']['inputs']['parameters']['train_args']
    eval_input = tasks['Evaluator']['inputs']['parameters']['eval_config']
    assert train_input == {'componentInputParameter': TRAIN_ARGS_PARAMETER}
    assert eval_input == {'componentInputParameter': EVAL_CONFIG_PARAMETER}


def test_roots_are_the_configured_uris(compiled):
    spec, config, _ = compiled
    tasks = spec['root']['dag']['tasks']

    push_destination = tasks['Pusher']['inputs']['parameters']['push_destination']
    input_base = tasks['ImportExampleGen']['inputs']['parameters']['input_base']

    assert (
        spec['defaultPipelineRoot'] == config.pipeline_root == 'gs://digits-test-bucket/pipelines'
    )
    assert input_base['runtimeValue']['constant'] == 'gs://digits-test-bucket/data/digits'
    assert 'gs://digits-test-bucket/serving/digits' in push_destination['runtimeValue']['constant']


def test_a_resolver_executor_is_refused(compiled):
    spec = copy.deepcopy(compiled[0])
    label = spec['components']['Trainer']['executorLabel']
    spec['deploymentSpec']['executors'][label] = {'resolver': {'outputArtifactQueries': {}}}

    with pytest.raises(kubeflow_runner.SettingError, match='container and importer executors'):
        kubeflow_runner.adapt_for_open_source_backend(spec, DEFAULTS, 'gs://b/p')


def test_an_unknown_lifecycle_hook_is_refused_not_dropped(compiled):
    spec = copy.deepcopy(compiled[0])
    container = _executor(spec, 'Trainer')['container']
    container['lifecycle'] = {'preCacheCheck': {'command': ['python', '-m', 'other.hook']}}

    with pytest.raises(kubeflow_runner.SettingError, match='lifecycle hook'):
        kubeflow_runner.adapt_for_open_source_backend(spec, DEFAULTS, 'gs://b/p')
