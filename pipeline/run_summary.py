"""What one pipeline run did, read back from ML Metadata: the end-of-run summary.

Reads the newest run of a pipeline from its metadata store: each node's state and duration, the
rows per split, the anomalies, the evaluation (overall and per class), the blessing with the
thresholds it was judged against, and where the model was pushed or why it was not. Works the
same for any store TFX wrote, local SQLite or a cluster's MySQL.
"""

from __future__ import annotations

import dataclasses
import os

import tensorflow_data_validation as tfdv
import tensorflow_model_analysis as tfma
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tensorflow_model_analysis.proto import validation_result_pb2
from tfx.types import artifact_utils

from pipeline import serving_layout
from pipeline.components.anomalies_gate import describe_anomalies
from pipeline.components.serving_baseline import SERVING_VERSION_PROPERTY
from pipeline.eval_config import ACCURACY_METRIC

_STATES = {value: name for name, value in metadata_store_pb2.Execution.State.items()}


@dataclasses.dataclass
class NodeRun:
    """One node's execution in a run: its state (COMPLETE, CACHED, FAILED...) and seconds."""

    node_id: str
    state: str
    seconds: float


@dataclasses.dataclass
class RunSummary:
    """The facts a person needs after a run, each None when the run stopped before it."""

    pipeline_name: str
    run_id: str
    nodes: list[NodeRun]
    split_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    anomalies: list[str] | None = None
    accuracy: float | None = None
    class_accuracy: dict[int, float] = dataclasses.field(default_factory=dict)
    baseline_version: int | None = None
    baseline_accuracy: float | None = None
    blessed: bool | None = None
    validation_failures: list[str] = dataclasses.field(default_factory=list)
    pushed: bool | None = None
    pushed_destination: str | None = None

    @property
    def failed_nodes(self) -> list[str]:
        """Nodes whose execution failed."""
        return [node.node_id for node in self.nodes if node.state == 'FAILED']


def sqlite_connection(path: str) -> metadata_store_pb2.ConnectionConfig:
    """Connection config of a local SQLite metadata store, opened read-only."""
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


class _RunReader:
    """Walks the executions of one pipeline_run context and their output artifacts."""

    def __init__(self, store: metadata_store.MetadataStore, pipeline_name: str) -> None:
        self._store = store
        self._pipeline_name = pipeline_name
        runs = store.get_contexts_by_type('pipeline_run')
        pipeline = store.get_context_by_type_and_name('pipeline', pipeline_name)
        if pipeline is None:
            raise LookupError(f'no pipeline named {pipeline_name!r} in the metadata store')
        pipeline_executions = {e.id for e in store.get_executions_by_context(pipeline.id)}
        own_runs = [
            run
            for run in runs
            if {e.id for e in store.get_executions_by_context(run.id)} & pipeline_executions
        ]
        if not own_runs:
            raise LookupError(f'pipeline {pipeline_name!r} has no runs in the metadata store')
        self.run = max(own_runs, key=lambda context: context.create_time_since_epoch)
        self.executions = sorted(store.get_executions_by_context(self.run.id), key=lambda e: e.id)
        self._node_ids = {e.id: self._node_id(e) for e in self.executions}

    def _node_id(self, execution: metadata_store_pb2.Execution) -> str:
        prefix = self._pipeline_name + '.'
        for context in self._store.get_contexts_by_execution(execution.id):
            if context.name.startswith(prefix):
                return context.name[len(prefix) :]
        return execution.name or str(execution.id)

    def node_runs(self) -> list[NodeRun]:
        return [
            NodeRun(
                node_id=self._node_ids[e.id],
                state=_STATES.get(e.last_known_state, 'UNKNOWN'),
                seconds=(e.last_update_time_since_epoch - e.create_time_since_epoch) / 1000.0,
            )
            for e in self.executions
        ]

    def output(self, node_id: str, key: str) -> metadata_store_pb2.Artifact | None:
        """The artifact a node of this run produced (or reused from cache) under `key`."""
        ids = [e.id for e in self.executions if self._node_ids[e.id] == node_id]
        if not ids:
            return None
        events = self._store.get_events_by_execution_ids(ids)
        artifact_ids = [
            event.artifact_id
            for event in events
            if event.type in (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.INPUT)
            and event.path.steps
            and event.path.steps[0].key == key
        ]
        if not artifact_ids:
            return None
        return self._store.get_artifacts_by_id(artifact_ids[-1:])[0]


def _split_names(artifact: metadata_store_pb2.Artifact) -> str:
    return artifact.properties['split_names'].string_value


def _custom_int(artifact: metadata_store_pb2.Artifact, name: str) -> int | None:
    if name not in artifact.custom_properties:
        return None
    return artifact.custom_properties[name].int_value


def _split_rows(statistics: metadata_store_pb2.Artifact) -> dict[str, int]:
    rows = {}
    for split in artifact_utils.decode_split_names(_split_names(statistics)):
        path = os.path.join(statistics.uri, f'Split-{split}', 'FeatureStats.pb')
        stats = tfdv.load_stats_binary(path)
        rows[split] = stats.datasets[0].num_examples
    return rows


def _read_evaluation(summary: RunSummary, evaluation: metadata_store_pb2.Artifact) -> None:
    for slice_metrics in tfma.load_metrics(evaluation.uri):
        values = {}
        for key_and_value in slice_metrics.metric_keys_and_values:
            if key_and_value.key.name != ACCURACY_METRIC:
                continue
            is_baseline = key_and_value.key.model_name == tfma.BASELINE_KEY
            values[is_baseline] = key_and_value.value.double_value.value
        slice_key = slice_metrics.slice_key.single_slice_keys
        if not slice_key and values:
            summary.accuracy = values.get(False)
            summary.baseline_accuracy = values.get(True)
        elif len(slice_key) == 1 and False in values:
            summary.class_accuracy[int(slice_key[0].int64_value)] = values[False]

    validation = tfma.load_validation_result(evaluation.uri)
    for slice_failures in validation.metric_validations_per_slice:
        for failure in slice_failures.failures:
            summary.validation_failures.append(_describe_failure(failure))


def _describe_failure(failure: validation_result_pb2.ValidationFailure) -> str:
    value = failure.metric_value.double_value.value
    threshold = failure.metric_threshold
    if failure.metric_key.is_diff:
        bound = threshold.change_threshold.absolute.value
        return f'accuracy change vs. the served model {value:+.4f} is below {bound:+.4f}'
    bound = threshold.value_threshold.lower_bound.value
    return f'accuracy {value:.4f} is below the bound {bound:.4f}'


def read_run_summary(
    connection_config: metadata_store_pb2.ConnectionConfig, pipeline_name: str
) -> RunSummary:
    """Reads the newest run of `pipeline_name` from a metadata store.

    Args:
        connection_config: Where the metadata store is.
        pipeline_name: The TFX pipeline name.

    Returns:
        The summary; fields stay None for the steps the run never reached.

    Raises:
        LookupError: The store holds no run of that pipeline.
    """
    reader = _RunReader(metadata_store.MetadataStore(connection_config), pipeline_name)
    summary = RunSummary(
        pipeline_name=pipeline_name, run_id=reader.run.name, nodes=reader.node_runs()
    )

    statistics = reader.output('StatisticsGen', 'statistics')
    if statistics is not None:
        summary.split_rows = _split_rows(statistics)
    anomalies = reader.output('ExampleValidator', 'anomalies')
    if anomalies is not None:
        summary.anomalies = describe_anomalies(anomalies.uri, _split_names(anomalies))
    baseline = reader.output('ServingBaseline', 'baseline_model')
    if baseline is not None:
        summary.baseline_version = _custom_int(baseline, SERVING_VERSION_PROPERTY) or None
    evaluation = reader.output('Evaluator', 'evaluation')
    if evaluation is not None:
        _read_evaluation(summary, evaluation)
    blessing = reader.output('Evaluator', 'blessing')
    if blessing is not None:
        summary.blessed = _custom_int(blessing, 'blessed') == 1
    pushed = reader.output('Pusher', 'pushed_model')
    if pushed is not None:
        summary.pushed = _custom_int(pushed, 'pushed') == 1
        destination = pushed.custom_properties.get('pushed_destination')
        summary.pushed_destination = destination.string_value if destination else None
    return summary


def format_summary(
    summary: RunSummary, min_accuracy: float, max_accuracy_drop: float, serving_model_dir: str
) -> str:
    """Renders the summary as the lines a person reads at the end of a run.

    Args:
        summary: The run's summary.
        min_accuracy: The absolute accuracy bound the run was judged against.
        max_accuracy_drop: The largest allowed drop against the serving model.
        serving_model_dir: Where served versions live, to say what is serving now.

    Returns:
        Multi-line text.
    """
    total = sum(node.seconds for node in summary.nodes)
    lines = [f'Run {summary.run_id} of pipeline {summary.pipeline_name!r}: {total:.1f} s']
    for node in summary.nodes:
        lines.append(f'  {node.node_id:<18} {node.state:<9} {node.seconds:6.1f} s')
    if summary.nodes and all(node.state == 'CACHED' for node in summary.nodes):
        lines.append(
            'Every component was cached: data, schema and settings are unchanged since an '
            'earlier run, whose results follow.'
        )

    if summary.split_rows:
        rows = ', '.join(f'{count:,} {split}' for split, count in summary.split_rows.items())
        lines.append(f'Data: {rows} rows.')
    if summary.anomalies is not None:
        if summary.anomalies:
            lines.append(f'Anomalies against the curated schema ({len(summary.anomalies)}):')
            lines += [f'  {line}' for line in summary.anomalies]
        else:
            lines.append('Anomalies: none against the curated schema.')

    if summary.accuracy is not None:
        rows = summary.split_rows.get('eval')
        on_rows = f' on {rows:,} eval rows' if rows else ''
        lines.append(f'Accuracy{on_rows}: {summary.accuracy:.4f} (must be >= {min_accuracy:.4f})')
        if summary.baseline_version:
            lines.append(
                f'Served version {summary.baseline_version}: {summary.baseline_accuracy:.4f} '
                f'on the same rows (the candidate may be at most {max_accuracy_drop:.4f} lower)'
            )
        else:
            lines.append('No model served yet: judged on the absolute bound alone.')
        per_class = '  '.join(
            f'{label}: {value:.3f}' for label, value in sorted(summary.class_accuracy.items())
        )
        lines.append(f'Accuracy per class: {per_class}')

    lines.append(_decision(summary, serving_model_dir))
    return '\n'.join(lines)


def _decision(summary: RunSummary, serving_model_dir: str) -> str:
    served = serving_layout.latest_version(serving_model_dir)
    still = f'serving stays at version {served}' if served else 'nothing is served yet'
    if summary.failed_nodes:
        return f'Decision: the run FAILED at {", ".join(summary.failed_nodes)}; {still}.'
    if summary.blessed is None:
        return f'Decision: the run stopped before evaluation; {still}.'
    if not summary.blessed:
        reasons = '; '.join(summary.validation_failures) or 'thresholds not met'
        return f'Decision: NOT BLESSED ({reasons}). Nothing pushed; {still}.'
    if summary.pushed:
        return f'Decision: BLESSED and pushed to {summary.pushed_destination}.'
    return f'Decision: BLESSED but not pushed; {still}.'
