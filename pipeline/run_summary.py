"""What one pipeline run did, read back from ML Metadata: the end-of-run summary.

Reads the newest run of a pipeline from its metadata store: each node's state and duration, the
rows per split, the anomalies, the evaluation (overall and per class), the blessing with the
thresholds it was judged against, and where the model was pushed or why it was not. Works the
same for any store `pipeline.metadata_connection` opens: local SQLite, a cluster's MySQL or its
gRPC service. The readers of artifact contents here (rows per split, TFDV statistics, the TFMA
evaluation) serve the run report and `runners.status` as well.
"""

from __future__ import annotations

import dataclasses

import tensorflow_model_analysis as tfma
from ml_metadata.proto import metadata_store_pb2
from tensorflow_metadata.proto.v0 import statistics_pb2
from tensorflow_model_analysis.metrics import example_count
from tensorflow_model_analysis.proto import validation_result_pb2
from tfx.types import artifact_utils

from pipeline import serving_layout
from pipeline.components import drift_validator
from pipeline.components.anomalies_gate import describe_anomalies
from pipeline.components.serving_baseline import SERVING_VERSION_PROPERTY
from pipeline.eval_config import ACCURACY_METRIC
from pipeline.lineage import MetadataReader, NodeRun, PipelineRun, int_property, string_property
from pipeline.metadata_connection import StoreConfig, open_store

EXAMPLE_COUNT_METRIC = example_count.EXAMPLE_COUNT_NAME


@dataclasses.dataclass
class Evaluation:
    """What TFMA measured on the eval split, and which thresholds the candidate failed.

    Attributes:
        accuracy: The candidate's overall accuracy.
        baseline_accuracy: The served model's accuracy on the same rows; None without one.
        rows: Eval rows overall.
        class_accuracy: The candidate's accuracy per true label.
        class_rows: Eval rows per true label.
        validation_failures: One line per threshold the candidate failed.
    """

    accuracy: float | None = None
    baseline_accuracy: float | None = None
    rows: int | None = None
    class_accuracy: dict[int, float] = dataclasses.field(default_factory=dict)
    class_rows: dict[int, int] = dataclasses.field(default_factory=dict)
    validation_failures: list[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RunSummary:
    """The facts a person needs after a run, each None when the run stopped before it."""

    pipeline_name: str
    run_id: str
    nodes: list[NodeRun]
    split_rows: dict[str, int] = dataclasses.field(default_factory=dict)
    anomalies: list[str] | None = None
    drift: list[str] | None = None
    evaluation: Evaluation | None = None
    baseline_version: int | None = None
    blessed: bool | None = None
    pushed: bool | None = None
    pushed_destination: str | None = None

    @property
    def failed_nodes(self) -> list[str]:
        """Nodes whose execution failed."""
        return [node.node_id for node in self.nodes if node.state == 'FAILED']


def split_rows(statistics: metadata_store_pb2.Artifact) -> dict[str, int]:
    """Rows per split, from the statistics StatisticsGen computed of them.

    Args:
        statistics: An ExampleStatistics artifact.

    Returns:
        Rows by split name, in the artifact's split order.
    """
    return {
        split: stats.datasets[0].num_examples
        for split, stats in load_split_statistics(statistics).items()
    }


def load_split_statistics(
    statistics: metadata_store_pb2.Artifact,
) -> dict[str, statistics_pb2.DatasetFeatureStatisticsList]:
    """TFDV's statistics of each split of an ExampleStatistics artifact.

    Args:
        statistics: An ExampleStatistics artifact.

    Returns:
        The statistics by split name, in the artifact's split order.
    """
    names = artifact_utils.decode_split_names(string_property(statistics, 'split_names'))
    return {split: drift_validator.load_statistics(statistics.uri, split) for split in names}


def read_evaluation(uri: str) -> Evaluation:
    """Reads the candidate's accuracy, overall and per class, and the failed thresholds.

    Args:
        uri: The URI of a ModelEvaluation artifact written by the Evaluator.

    Returns:
        The evaluation. Differences against the baseline are not reported as accuracies.
    """
    evaluation = Evaluation()
    for slice_metrics in tfma.load_metrics(uri):
        values: dict[tuple[str, bool], float] = {}
        for key_and_value in slice_metrics.metric_keys_and_values:
            key = key_and_value.key
            if key.is_diff or key.name not in (ACCURACY_METRIC, EXAMPLE_COUNT_METRIC):
                continue
            is_baseline = key.model_name == tfma.BASELINE_KEY
            values[key.name, is_baseline] = key_and_value.value.double_value.value
        accuracy = values.get((ACCURACY_METRIC, False))
        rows = values.get((EXAMPLE_COUNT_METRIC, False))
        slice_key = slice_metrics.slice_key.single_slice_keys
        if not slice_key:
            evaluation.accuracy = accuracy
            evaluation.baseline_accuracy = values.get((ACCURACY_METRIC, True))
            evaluation.rows = None if rows is None else int(rows)
        elif len(slice_key) == 1 and accuracy is not None:
            label = int(slice_key[0].int64_value)
            evaluation.class_accuracy[label] = accuracy
            if rows is not None:
                evaluation.class_rows[label] = int(rows)
    evaluation.class_accuracy = dict(sorted(evaluation.class_accuracy.items()))
    evaluation.class_rows = dict(sorted(evaluation.class_rows.items()))

    validation = tfma.load_validation_result(uri)
    for slice_failures in validation.metric_validations_per_slice:
        for failure in slice_failures.failures:
            evaluation.validation_failures.append(_describe_failure(failure))
    return evaluation


def _describe_failure(failure: validation_result_pb2.ValidationFailure) -> str:
    value = failure.metric_value.double_value.value
    threshold = failure.metric_threshold
    if failure.metric_key.is_diff:
        bound = threshold.change_threshold.absolute.value
        return f'accuracy change vs. the served model {value:+.4f} is below {bound:+.4f}'
    bound = threshold.value_threshold.lower_bound.value
    return f'accuracy {value:.4f} is below the bound {bound:.4f}'


def summarize_run(run: PipelineRun, read_artifacts: bool = True) -> RunSummary:
    """Reads what one run did from its metadata and the artifacts its nodes wrote.

    Args:
        run: A run from `lineage.MetadataReader`.
        read_artifacts: Also read the rows, anomalies and evaluation from the artifacts' files;
            False reads ML Metadata alone (nodes, blessing, push).

    Returns:
        The summary; fields stay None for the steps the run never reached or were not read.
    """
    summary = RunSummary(pipeline_name=run.pipeline_name, run_id=run.run_id, nodes=run.node_runs())

    statistics = run.output('StatisticsGen', 'statistics')
    if statistics is not None and read_artifacts:
        summary.split_rows = split_rows(statistics)
    anomalies = run.output('ExampleValidator', 'anomalies')
    if anomalies is not None and read_artifacts:
        summary.anomalies = describe_anomalies(
            anomalies.uri, string_property(anomalies, 'split_names')
        )
    drift = run.output('DriftValidator', 'anomalies')
    if drift is not None and read_artifacts:
        properties = {name: int_property(drift, name) or 0 for name in drift.custom_properties}
        summary.drift = drift_validator.summary_lines(drift.uri, properties)
    baseline = run.output('ServingBaseline', 'baseline_model')
    if baseline is not None:
        summary.baseline_version = int_property(baseline, SERVING_VERSION_PROPERTY) or None
    evaluation = run.output('Evaluator', 'evaluation')
    if evaluation is not None and read_artifacts:
        summary.evaluation = read_evaluation(evaluation.uri)
    blessing = run.output('Evaluator', 'blessing')
    if blessing is not None:
        summary.blessed = int_property(blessing, 'blessed') == 1
    pushed = run.output('Pusher', 'pushed_model')
    if pushed is not None:
        summary.pushed = int_property(pushed, 'pushed') == 1
        summary.pushed_destination = string_property(pushed, 'pushed_destination')
    return summary


def read_run_summary(connection_config: StoreConfig, pipeline_name: str) -> RunSummary:
    """Reads the newest run of `pipeline_name` from a metadata store.

    Args:
        connection_config: Where the metadata store is.
        pipeline_name: The TFX pipeline name.

    Returns:
        The summary; fields stay None for the steps the run never reached.

    Raises:
        LookupError: The store holds no run of that pipeline.
    """
    reader = MetadataReader(open_store(connection_config), pipeline_name)
    return summarize_run(reader.latest_run())


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
    if summary.drift is not None:
        lines += summary.drift

    evaluation = summary.evaluation
    if evaluation is not None and evaluation.accuracy is not None:
        rows = evaluation.rows or summary.split_rows.get('eval')
        on_rows = f' on {rows:,} eval rows' if rows else ''
        lines.append(
            f'Accuracy{on_rows}: {evaluation.accuracy:.4f} (must be >= {min_accuracy:.4f})'
        )
        if evaluation.baseline_accuracy is not None:
            lines.append(
                f'Served version {summary.baseline_version}: {evaluation.baseline_accuracy:.4f} '
                f'on the same rows (the candidate may be at most {max_accuracy_drop:.4f} lower)'
            )
        else:
            lines.append(
                'No model was served when this candidate was trained: judged on the absolute '
                'bound alone.'
            )
        per_class = '  '.join(
            f'{label}: {value:.3f}' for label, value in evaluation.class_accuracy.items()
        )
        lines.append(f'Accuracy per class: {per_class}')

    lines.append(_decision(summary, serving_model_dir))
    return '\n'.join(lines)


def describe_outcome(summary: RunSummary) -> str:
    """Says how a run ended: where it failed or stopped, the blessing, and the push.

    Args:
        summary: The run's summary.

    Returns:
        For example `BLESSED and pushed to <path>`, `NOT BLESSED (<reasons>). Nothing pushed`
        or `the run FAILED at AnomaliesGate`.
    """
    if summary.failed_nodes:
        return f'the run FAILED at {", ".join(summary.failed_nodes)}'
    unfinished = [node.node_id for node in summary.nodes if node.state in ('NEW', 'RUNNING')]
    if unfinished:
        return f'the run is still running, or was interrupted, at {", ".join(unfinished)}'
    if summary.blessed is None:
        return 'the run stopped before evaluation'
    if not summary.blessed:
        failures = summary.evaluation.validation_failures if summary.evaluation else []
        return f'NOT BLESSED ({"; ".join(failures) or "thresholds not met"}). Nothing pushed'
    if summary.pushed:
        return f'BLESSED and pushed to {summary.pushed_destination}'
    return 'BLESSED but not pushed'


def _decision(summary: RunSummary, serving_model_dir: str) -> str:
    outcome = describe_outcome(summary)
    if summary.pushed and not summary.failed_nodes:
        return f'Decision: {outcome}.'
    served = serving_layout.latest_version(serving_model_dir)
    still = f'serving stays at version {served}' if served else 'nothing is served yet'
    return f'Decision: {outcome}; {still}.'
