"""What a run report shows, read from ML Metadata and the artifacts of one run.

Everything comes from what the run recorded: the run summary (nodes, rows, anomalies, drift,
evaluation, blessing, push), TFDV's statistics of each split, the multi-class confusion matrix
TFMA computed, and the thresholds from the evaluation's own EvalConfig (the Evaluator drops the
change threshold when nothing was served, so what is listed is what was applied). A run that
stopped early has the parts it reached.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow_model_analysis as tfma
from tensorflow_metadata.proto.v0 import statistics_pb2
from tensorflow_model_analysis.metrics import multi_class_confusion_matrix_plot
from tensorflow_model_analysis.writers import eval_config_writer

from pipeline.lineage import PipelineRun, example_spans
from pipeline.run_summary import RunSummary, load_split_statistics, summarize_run

_CONFUSION_MATRIX = multi_class_confusion_matrix_plot.MULTI_CLASS_CONFUSION_MATRIX_PLOT_NAME
_DIRECTIONS = {
    tfma.MetricDirection.HIGHER_IS_BETTER: '>=',
    tfma.MetricDirection.LOWER_IS_BETTER: '<=',
}


@dataclasses.dataclass(frozen=True)
class ConfusionMatrix:
    """Eval rows by true class (rows) and predicted class (columns)."""

    classes: list[int]
    counts: np.ndarray

    @property
    def total(self) -> int:
        """Every eval row counted in the matrix."""
        return int(self.counts.sum())


@dataclasses.dataclass
class ReportContent:
    """Everything a run report shows; the parts a stopped run never reached stay None.

    Attributes:
        summary: The run summary: nodes, rows, anomalies, drift, evaluation, blessing, push.
        started: When the run started, in seconds since the epoch.
        spans: The spans ImportExampleGen read, oldest first.
        examples_uri: Where ImportExampleGen wrote the examples.
        statistics: TFDV statistics by split.
        confusion_matrix: The candidate's confusion matrix on the eval split.
        thresholds: The thresholds the blessing applied, one line each.
    """

    summary: RunSummary
    started: float
    spans: list[int] = dataclasses.field(default_factory=list)
    examples_uri: str | None = None
    statistics: dict[str, statistics_pb2.DatasetFeatureStatisticsList] | None = None
    confusion_matrix: ConfusionMatrix | None = None
    thresholds: list[str] = dataclasses.field(default_factory=list)


def read_confusion_matrix(uri: str) -> ConfusionMatrix | None:
    """The candidate's overall multi-class confusion matrix from a TFMA evaluation.

    Args:
        uri: The URI of a ModelEvaluation artifact.

    Returns:
        The matrix over every class seen as label or prediction; None when not computed.
    """
    for plots in tfma.load_plots(uri):
        if plots.slice_key.single_slice_keys:
            continue
        for key_and_value in plots.plot_keys_and_values:
            key = key_and_value.key
            if key.name != _CONFUSION_MATRIX or key.model_name == tfma.BASELINE_KEY:
                continue
            matrices = key_and_value.value.multi_class_confusion_matrix_at_thresholds.matrices
            entries = matrices[0].entries
            classes = sorted(
                {entry.actual_class_id for entry in entries}
                | {entry.predicted_class_id for entry in entries if entry.predicted_class_id >= 0}
            )
            index = {label: position for position, label in enumerate(classes)}
            counts = np.zeros((len(classes), len(classes)), dtype=np.int64)
            for entry in entries:
                if entry.predicted_class_id in index:
                    row, column = index[entry.actual_class_id], index[entry.predicted_class_id]
                    counts[row, column] += round(entry.num_weighted_examples)
            return ConfusionMatrix(classes=classes, counts=counts)
    return None


def describe_thresholds(uri: str) -> list[str]:
    """The blessing thresholds an evaluation applied, from the EvalConfig stored with it.

    Args:
        uri: The URI of a ModelEvaluation artifact.

    Returns:
        Lines such as `SparseCategoricalAccuracy >= 0.9000` and
        `SparseCategoricalAccuracy change vs. the served model >= -0.0100`.
    """
    eval_config = eval_config_writer.load_eval_run(uri)[0]
    lines = []
    for spec in eval_config.metrics_specs:
        for metric in spec.metrics:
            thresholds = [each.threshold for each in metric.per_slice_thresholds]
            if metric.HasField('threshold'):
                thresholds.append(metric.threshold)
            for threshold in thresholds:
                lines += _threshold_lines(metric.class_name, threshold)
    return lines


def _threshold_lines(name: str, threshold: tfma.MetricThreshold) -> list[str]:
    lines = []
    bounds = threshold.value_threshold
    if bounds.HasField('lower_bound'):
        lines.append(f'{name} >= {bounds.lower_bound.value:.4f}')
    if bounds.HasField('upper_bound'):
        lines.append(f'{name} <= {bounds.upper_bound.value:.4f}')
    change = threshold.change_threshold
    if change.HasField('absolute'):
        sign = _DIRECTIONS.get(change.direction, '?')
        lines.append(f'{name} change vs. the served model {sign} {change.absolute.value:+.4f}')
    return lines


def read_report_content(run: PipelineRun) -> ReportContent:
    """Collects what the report of one run shows.

    Args:
        run: A run from `lineage.MetadataReader`.

    Returns:
        The content; parts the run never reached stay None or empty.
    """
    content = ReportContent(summary=summarize_run(run), started=run.started)

    examples = run.output('ImportExampleGen', 'examples')
    if examples is not None:
        content.spans = example_spans(examples)
        content.examples_uri = examples.uri
    statistics = run.output('StatisticsGen', 'statistics')
    if statistics is not None:
        content.statistics = load_split_statistics(statistics)
    evaluation = run.output('Evaluator', 'evaluation')
    if evaluation is not None:
        content.confusion_matrix = read_confusion_matrix(evaluation.uri)
        content.thresholds = describe_thresholds(evaluation.uri)
    return content
