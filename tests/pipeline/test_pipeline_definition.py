"""The one pipeline definition: the canonical eight components, wired in order, no Resolver."""

from tfx import v1 as tfx
from tfx.dsl.components.common import resolver

from pipeline.config import PipelineConfig
from pipeline.pipeline import create_pipeline

CANONICAL = [
    (tfx.components.ImportExampleGen, 'ImportExampleGen'),
    (tfx.components.StatisticsGen, 'StatisticsGen'),
    (tfx.components.SchemaGen, 'SchemaGen'),
    (tfx.components.ExampleValidator, 'ExampleValidator'),
    (tfx.components.Transform, 'Transform'),
    (tfx.components.Trainer, 'Trainer'),
    (tfx.components.Evaluator, 'Evaluator'),
    (tfx.components.Pusher, 'Pusher'),
]


def _by_id(tmp_path):
    config = PipelineConfig(work_root=str(tmp_path), data_root=str(tmp_path / 'data'))
    return {node.id: node for node in create_pipeline(config).components}


def _upstream_ids(node):
    return {upstream.id for upstream in node.upstream_nodes}


def test_the_eight_canonical_components_are_real_tfx_components(tmp_path):
    nodes = _by_id(tmp_path)

    for component_class, node_id in CANONICAL:
        assert isinstance(nodes[node_id], component_class), node_id


def test_components_are_wired_in_canonical_order(tmp_path):
    nodes = _by_id(tmp_path)

    for (_, upstream), (_, downstream) in zip(CANONICAL, CANONICAL[1:], strict=False):
        reachable, frontier = set(), [downstream]
        while frontier:
            node = nodes[frontier.pop()]
            for parent in _upstream_ids(node) - reachable:
                reachable.add(parent)
                frontier.append(parent)
        assert upstream in reachable, f'{upstream} does not precede {downstream}'
    assert _upstream_ids(nodes['StatisticsGen']) == {'ImportExampleGen'}
    assert _upstream_ids(nodes['SchemaGen']) == {'StatisticsGen'}
    assert _upstream_ids(nodes['ExampleValidator']) == {
        'StatisticsGen',
        'SchemaGen',
        'CuratedSchema',
    }
    assert nodes['ExampleValidator'].inputs['schema'].producer_component_id == 'CuratedSchema'


def test_anomalies_gate_stands_between_validation_and_transform(tmp_path):
    nodes = _by_id(tmp_path)

    assert _upstream_ids(nodes['AnomaliesGate']) == {'ExampleValidator'}
    assert 'AnomaliesGate' in _upstream_ids(nodes['Transform'])


def test_evaluator_baseline_is_the_serving_model_not_a_resolver(tmp_path):
    nodes = _by_id(tmp_path)

    assert not any(isinstance(node, resolver.Resolver) for node in nodes.values())
    evaluator_inputs = nodes['Evaluator'].inputs
    assert evaluator_inputs['baseline_model'].producer_component_id == 'ServingBaseline'
    assert _upstream_ids(nodes['ServingBaseline']) == {'Trainer'}
    assert {'Trainer', 'Evaluator'} <= _upstream_ids(nodes['Pusher'])


def test_pusher_targets_the_serving_model_directory(tmp_path):
    nodes = _by_id(tmp_path)

    destination = nodes['Pusher'].exec_properties['push_destination']
    assert str(tmp_path / 'serving' / 'digits') in str(destination)


def test_transform_and_trainer_use_module_paths_not_packaged_files(tmp_path):
    nodes = _by_id(tmp_path)

    assert nodes['Transform'].exec_properties['preprocessing_fn'] == (
        'preprocessing.transform.preprocessing_fn'
    )
    assert nodes['Trainer'].exec_properties['run_fn'] == 'models.trainer.run_fn'
    assert not nodes['Transform'].exec_properties.get('module_file')


def test_pipeline_carries_config_names_roots_and_beam_args(tmp_path):
    config = PipelineConfig(work_root=str(tmp_path), beam_num_workers=2)

    pipeline = create_pipeline(config)

    assert pipeline.pipeline_info.pipeline_name == 'digits'
    assert pipeline.pipeline_info.pipeline_root == str(tmp_path / 'pipelines' / 'digits')
    assert '--direct_num_workers=2' in pipeline.beam_pipeline_args
    assert len(pipeline.components) == 12
