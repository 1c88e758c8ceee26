"""Lineage read from ML Metadata: runs newest first, and a pushed version back to its data.

The end-to-end tests read the store of three real runs (`recorded_runs` in tests/conftest.py):
a blessed push, a retrained candidate not blessed against it, and a run stopped by anomalies.
"""

import hashlib
import os

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline import serving_layout
from pipeline.lineage import (
    MetadataReader,
    UnknownVersionError,
    example_spans,
    int_property,
    string_property,
)
from pipeline.metadata_connection import open_store, sqlite_connection
from pipeline.run_summary import summarize_run

SCHEMA_FILE = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    'schema',
    'digits',
    'schema.pbtxt',
)


@pytest.fixture(scope='module')
def reader(recorded_runs):
    config = recorded_runs.config
    return MetadataReader(open_store(sqlite_connection(config.metadata_path)), 'digits')


@pytest.fixture(scope='module')
def served_version(recorded_runs):
    return serving_layout.latest_version(recorded_runs.config.serving_model_dir)


def states(run):
    return {node.node_id: node.state for node in run.node_runs()}


@pytest.mark.e2e
def test_recorded_runs_pushed_then_were_not_blessed_then_stopped(recorded_runs):
    codes, outputs = recorded_runs.codes, recorded_runs.outputs

    assert codes == [0, 0, 1], outputs
    assert 'Decision: BLESSED and pushed to' in outputs[0]
    assert 'Decision: NOT BLESSED (accuracy change vs. the served model' in outputs[1]
    assert 'Decision: the run FAILED at AnomaliesGate' in outputs[2]


@pytest.mark.e2e
def test_runs_are_listed_newest_first_with_each_component_state(reader):
    stopped, not_blessed, pushed = reader.runs()

    assert stopped.started >= not_blessed.started >= pushed.started
    assert states(stopped)['AnomaliesGate'] == 'FAILED'
    assert 'Transform' not in states(stopped)
    assert states(not_blessed)['Trainer'] == 'COMPLETE'
    assert states(not_blessed)['Transform'] == 'CACHED'
    assert set(states(pushed).values()) == {'COMPLETE'}
    assert states(pushed)['Pusher'] == 'COMPLETE'
    assert all(node.seconds >= 0 for node in pushed.node_runs())


@pytest.mark.e2e
def test_run_limit_keeps_the_newest_runs(reader):
    newest = reader.runs(limit=2)

    assert [run.run_id for run in newest] == [run.run_id for run in reader.runs()[:2]]
    assert reader.latest_run().run_id == newest[0].run_id


@pytest.mark.e2e
def test_only_the_first_run_pushed_the_served_version(reader, served_version):
    assert list(reader.pushed_versions()) == [served_version]


@pytest.mark.e2e
def test_served_version_traces_back_to_the_first_run_and_span_1(reader, served_version):
    first_run = reader.runs()[-1]

    lineage = reader.model_lineage(served_version)

    assert lineage.run_id == first_run.run_id
    assert lineage.spans == [1]
    assert lineage.examples.uri == first_run.output('ImportExampleGen', 'examples').uri
    assert os.path.isdir(os.path.join(lineage.examples.uri, 'Split-train'))
    assert lineage.model.uri == first_run.output('Trainer', 'model').uri
    assert lineage.transform_graph.uri == first_run.output('Transform', 'transform_graph').uri
    assert os.path.isdir(os.path.join(lineage.transform_graph.uri, 'transform_fn'))
    assert lineage.transformed_examples.uri == (
        first_run.output('Transform', 'transformed_examples').uri
    )
    assert lineage.statistics.uri == first_run.output('StatisticsGen', 'statistics').uri
    assert lineage.evaluation.uri == first_run.output('Evaluator', 'evaluation').uri
    assert int_property(lineage.blessing, 'blessed') == 1
    assert int_property(lineage.baseline_model, 'serving_version') == 0
    assert string_property(lineage.pushed_model, 'pushed_destination').endswith(
        f'/{served_version}'
    )


@pytest.mark.e2e
def test_schema_in_the_lineage_carries_the_curated_file_hash(reader, served_version):
    with open(SCHEMA_FILE, 'rb') as schema:
        expected = hashlib.sha256(schema.read()).hexdigest()

    lineage = reader.model_lineage(served_version)

    assert lineage.schema.uri == os.path.dirname(SCHEMA_FILE)
    assert string_property(lineage.schema, 'sha256') == expected


@pytest.mark.e2e
def test_unknown_version_names_the_versions_pushed(reader, served_version):
    with pytest.raises(UnknownVersionError, match=f'versions it pushed: {served_version}$'):
        reader.model_lineage(served_version + 1)


@pytest.mark.e2e
def test_candidate_judged_against_the_served_model_keeps_its_own_accuracy(reader):
    stopped, not_blessed, pushed = reader.runs()

    candidate = summarize_run(not_blessed).evaluation
    served = summarize_run(pushed).evaluation

    assert 0.5 < candidate.accuracy <= 1.0
    assert candidate.baseline_accuracy == pytest.approx(served.accuracy)
    assert all(0.0 <= value <= 1.0 for value in candidate.class_accuracy.values())
    assert candidate.validation_failures == [
        f'accuracy change vs. the served model {candidate.accuracy - served.accuracy:+.4f} '
        'is below +0.5000'
    ]


@pytest.mark.e2e
def test_unknown_pipeline_says_run_make_run_first(recorded_runs):
    store = open_store(sqlite_connection(recorded_runs.config.metadata_path))

    with pytest.raises(LookupError, match="pipeline 'mnist' has no runs.*make run"):
        MetadataReader(store, 'mnist')


def _value(number):
    value = metadata_store_pb2.Value()
    if isinstance(number, float):
        value.double_value = number
    elif isinstance(number, int):
        value.int_value = number
    else:
        value.string_value = number
    return value


def test_numbers_read_the_same_as_int_double_or_text():
    artifact = metadata_store_pb2.Artifact()
    artifact.custom_properties['as_int'].CopyFrom(_value(7))
    artifact.custom_properties['as_double'].CopyFrom(_value(7.0))
    artifact.custom_properties['as_text'].CopyFrom(_value('7'))
    artifact.properties['split_names'].CopyFrom(_value('["train"]'))

    assert [int_property(artifact, name) for name in ('as_int', 'as_double', 'as_text')] == [7] * 3
    assert int_property(artifact, 'missing') is None
    assert string_property(artifact, 'split_names') == '["train"]'
    assert string_property(artifact, 'as_int') is None


def test_spans_come_from_the_window_when_one_was_read():
    single = metadata_store_pb2.Artifact()
    single.custom_properties['span'].CopyFrom(_value(3))
    window = metadata_store_pb2.Artifact()
    window.CopyFrom(single)
    window.custom_properties['window_spans'].CopyFrom(_value('2,3'))

    assert example_spans(single) == [3]
    assert example_spans(window) == [2, 3]
    assert example_spans(metadata_store_pb2.Artifact()) == []


class KubeflowStore:
    """Writes ML Metadata the way the Kubeflow Pipelines 2.x launcher records a TFX run.

    Contexts `system.Pipeline` and `system.PipelineRun` (the run a child of the pipeline), every
    execution in both with its task in `task_name`, artifact types named by schema title, the
    metadata each task reported as custom properties with numbers stored as doubles, and events
    keyed by the input or output name.
    """

    def __init__(self, pipeline_name):
        config = metadata_store_pb2.ConnectionConfig()
        config.fake_database.SetInParent()
        self.store = metadata_store.MetadataStore(config)
        self._pipeline = self._context('system.Pipeline', pipeline_name)

    def _context(self, type_name, name):
        type_id = self.store.put_context_type(metadata_store_pb2.ContextType(name=type_name))
        [context_id] = self.store.put_contexts(
            [metadata_store_pb2.Context(type_id=type_id, name=name)]
        )
        return self.store.get_contexts_by_id([context_id])[0]

    def start_run(self, run_id):
        run = self._context('system.PipelineRun', run_id)
        self.store.put_parent_contexts(
            [metadata_store_pb2.ParentContext(child_id=run.id, parent_id=self._pipeline.id)]
        )
        return run

    def task(self, run, task_name, inputs, outputs, state='COMPLETE'):
        type_id = self.store.put_execution_type(
            metadata_store_pb2.ExecutionType(name='system.ContainerExecution')
        )
        execution = metadata_store_pb2.Execution(
            type_id=type_id, last_known_state=metadata_store_pb2.Execution.State.Value(state)
        )
        execution.custom_properties['task_name'].CopyFrom(_value(task_name))
        pairs = []
        for key, artifact in inputs.items():
            event = metadata_store_pb2.Event(
                type=metadata_store_pb2.Event.INPUT, artifact_id=artifact.id
            )
            event.path.steps.add().key = key
            pairs.append((None, event))
        for key, (type_name, uri, properties) in outputs.items():
            artifact = metadata_store_pb2.Artifact(
                type_id=self.store.put_artifact_type(
                    metadata_store_pb2.ArtifactType(name=type_name)
                ),
                uri=uri,
            )
            for name, value in properties.items():
                artifact.custom_properties[name].CopyFrom(_value(value))
            event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
            event.path.steps.add().key = key
            pairs.append((artifact, event))
        _, artifact_ids, _ = self.store.put_execution(execution, pairs, [self._pipeline, run])
        made = self.store.get_artifacts_by_id(artifact_ids[len(inputs) :])
        return dict(zip(outputs, made, strict=True))


def test_reader_follows_a_kubeflow_pipelines_store():
    kfp = KubeflowStore('digits')
    run = kfp.start_run('digits-run-7f3a')
    schema = kfp.task(
        run, 'CuratedSchema', {}, {'result': ('tfx.Schema', 'gs://b/schema', {'sha256': 'ab'})}
    )['result']
    examples = kfp.task(
        run,
        'ImportExampleGen',
        {},
        {'examples': ('tfx.Examples', 'gs://b/examples', {'span': 4.0})},
    )['examples']
    statistics = kfp.task(
        run,
        'StatisticsGen',
        {'examples': examples},
        {'statistics': ('tfx.ExampleStatistics', 'gs://b/statistics', {})},
    )['statistics']
    transform = kfp.task(
        run,
        'Transform',
        {'examples': examples, 'schema': schema},
        {
            'transform_graph': ('tfx.TransformGraph', 'gs://b/graph', {}),
            'transformed_examples': ('tfx.Examples', 'gs://b/transformed', {}),
        },
    )
    model = kfp.task(
        run,
        'Trainer',
        {
            'examples': transform['transformed_examples'],
            'transform_graph': transform['transform_graph'],
            'schema': schema,
        },
        {'model': ('tfx.Model', 'gs://b/model', {})},
    )['model']
    evaluated = kfp.task(
        run,
        'Evaluator',
        {'examples': examples, 'model': model},
        {
            'evaluation': ('tfx.ModelEvaluation', 'gs://b/evaluation', {}),
            'blessing': ('tfx.ModelBlessing', 'gs://b/blessing', {'blessed': 1.0}),
        },
    )
    kfp.task(
        run,
        'Pusher',
        {'model': model, 'model_blessing': evaluated['blessing']},
        {
            'pushed_model': (
                'tfx.PushedModel',
                'gs://b/pushed',
                {'pushed': 1.0, 'pushed_version': '1700000000'},
            )
        },
    )
    reader = MetadataReader(kfp.store, 'digits')

    [only_run] = reader.runs()
    lineage = reader.model_lineage(1700000000)

    assert only_run.run_id == 'digits-run-7f3a'
    assert [node.node_id for node in only_run.node_runs()][-1] == 'Pusher'
    assert lineage.run_id == 'digits-run-7f3a'
    assert lineage.spans == [4]
    assert lineage.statistics.uri == statistics.uri
    assert lineage.transform_graph.uri == 'gs://b/graph'
    assert lineage.schema.uri == 'gs://b/schema'
    assert lineage.evaluation.uri == 'gs://b/evaluation'
