"""DriftValidator: stops the run when a new span drifted from the previous one, or serving skewed.

TFX's ExampleValidator checks statistics against the schema alone: the drift and skew
comparators a schema carries are inert there, since it is never given previous or serving
statistics. TFX's DistributionValidator is outside the public `tfx.v1` API and needs its
baseline statistics from a `Resolver`, which the open-source Kubeflow Pipelines backend cannot
execute. This component is an ordinary container task on both runners and finds its baselines
itself, at run time:

- **drift**: it computes TFDV statistics of the newest span and of the span before it, both read
  from the data root (spans are immutable, so the previous span's files are what the previous run
  read), and compares them with the schema's `drift_comparator`s;
- **skew**: it computes statistics of the requests the serving process logged under the
  prediction log folder and compares them with the training split's statistics (the schema's
  `skew_comparator`s), after checking them against the schema in its SERVING environment.

Any finding fails the run with a message that names the feature, the measured distance and the
threshold; Transform waits for this component. With `accept_drift` a person who reviewed the
findings lets the run continue, and the output records that the drift was accepted.
"""

import dataclasses
import os
from collections.abc import Mapping

import apache_beam as beam
import tensorflow as tf
import tensorflow_data_validation as tfdv
from absl import logging
from tensorflow_metadata.proto.v0 import anomalies_pb2, schema_pb2, statistics_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils
from tfx.utils import io_utils
from tfx_bsl.public import tfxio

from dataprep import spans
from pipeline.components.anomalies_gate import anomalies_path, read_anomalies
from pipeline.components.span_window import span_pattern
from preprocessing.features import IMAGE_KEY

SCHEMA_FILE = 'schema.pbtxt'
STATISTICS_FILE = 'FeatureStats.pb'
TRAIN_SPLIT = 'train'
SPAN_PROPERTY = 'span'
SERVING_ENVIRONMENT = 'SERVING'
# Splits of the statistics output: the two spans compared and the logged serving requests.
PREVIOUS, CURRENT, SERVING = 'previous', 'current', 'serving'
# Splits of the anomalies output: span-to-span drift, training-serving skew, and serving data
# against the schema in its SERVING environment.
DRIFT, SKEW = 'drift', 'skew'
ANOMALY_SPLITS = (DRIFT, SKEW, SERVING)
# Integer custom properties of the anomalies output.
CURRENT_SPAN_PROPERTY = 'current_span'
PREVIOUS_SPAN_PROPERTY = 'previous_span'
SERVING_ROWS_PROPERTY = 'serving_rows'
SERVING_COMPARED_PROPERTY = 'serving_compared'
ACCEPTED_PROPERTY = 'drift_accepted'
# The prediction log's files, as serving/prediction_log.py names them.
PREDICTION_LOG_PATTERN = '*.tfrecord'

_COMPARATOR_REASONS = frozenset(
    {
        anomalies_pb2.AnomalyInfo.COMPARATOR_L_INFTY_HIGH,
        anomalies_pb2.AnomalyInfo.COMPARATOR_JENSEN_SHANNON_DIVERGENCE_HIGH,
        anomalies_pb2.AnomalyInfo.COMPARATOR_NORMALIZED_ABSOLUTE_DIFFERENCE_HIGH,
    }
)
_MEASURES = {
    anomalies_pb2.DriftSkewInfo.Measurement.L_INFTY: 'L-infinity distance',
    anomalies_pb2.DriftSkewInfo.Measurement.JENSEN_SHANNON_DIVERGENCE: (
        'Jensen-Shannon divergence'
    ),
    anomalies_pb2.DriftSkewInfo.Measurement.NORMALIZED_ABSOLUTE_DIFFERENCE: (
        'normalized absolute difference'
    ),
}


class DataDriftError(RuntimeError):
    """A new span drifted, or serving requests skewed, beyond the schema's thresholds."""


@dataclasses.dataclass(frozen=True)
class Comparison:
    """One distance TFDV measured between two data sets for one feature.

    Attributes:
        check: DRIFT (span to span) or SKEW (training to serving).
        feature: The feature compared.
        measure: What was measured, e.g. 'Jensen-Shannon divergence'.
        value: The measured distance.
        threshold: The schema's threshold; a distance above it is a finding.
        between: What was compared, e.g. 'from span 1 to span 2'.
    """

    check: str
    feature: str
    measure: str
    value: float
    threshold: float
    between: str

    @property
    def exceeded(self) -> bool:
        """Whether the distance is above the threshold, as TFDV judges it."""
        return self.value > self.threshold

    def __str__(self) -> str:
        """One line: check, feature, what was compared, the distance and the threshold."""
        verdict = 'above' if self.exceeded else 'within'
        return (
            f'{self.check} of feature {self.feature!r} {self.between}: {self.measure} '
            f'{self.value:.4f}, {verdict} the threshold {self.threshold:.4f}'
        )


def resolved_span(examples: tfx.types.standard_artifacts.Examples) -> int:
    """The span ExampleGen's driver resolved for an Examples artifact.

    The local driver records it as a custom property; on Kubeflow Pipelines it travels in the
    artifact's metadata, which comes back as the `span` property (as a number, maybe a float).
    """
    if examples.has_custom_property(SPAN_PROPERTY):
        value = examples.mlmd_artifact.custom_properties[SPAN_PROPERTY]
        return int(value.int_value or value.double_value)
    return int(examples.span)


def previous_span(data_root: str, span: int) -> int | None:
    """The highest span of the data root below `span`, or None for the first span."""
    earlier = [number for number in spans.list_spans(data_root) if number < span]
    return earlier[-1] if earlier else None


def read_prediction_log(log_dir: str) -> list[bytes]:
    """Reads every logged request, tolerating a last record still being written.

    Args:
        log_dir: The prediction log folder; it need not exist.

    Returns:
        The serialized tf.Examples of all `*.tfrecord` files, oldest file first.
    """
    if not tf.io.gfile.isdir(log_dir):
        return []
    records = []
    for path in sorted(tf.io.gfile.glob(os.path.join(log_dir, PREDICTION_LOG_PATTERN))):
        count = 0
        try:
            for record in tf.data.TFRecordDataset(path).as_numpy_iterator():
                records.append(record)
                count += 1
        except tf.errors.DataLossError:
            logging.warning(
                '%s ends in a partial record, being written: read its first %d', path, count
            )
    return records


def comparisons(anomalies: anomalies_pb2.Anomalies, check: str, between: str) -> list[Comparison]:
    """Every distance a TFDV validation measured, found or not.

    Args:
        anomalies: What `tfdv.validate_statistics` returned.
        check: DRIFT to read the drift measurements, SKEW for the skew ones.
        between: What was compared, for the messages.

    Returns:
        One Comparison per feature and measure, in feature order.
    """
    found = []
    for info in anomalies.drift_skew_info:
        measurements = info.drift_measurements if check == DRIFT else info.skew_measurements
        for measurement in measurements:
            found.append(
                Comparison(
                    check=check,
                    feature='.'.join(info.path.step),
                    measure=_MEASURES.get(measurement.type, 'distance'),
                    value=measurement.value,
                    threshold=measurement.threshold,
                    between=between,
                )
            )
    return sorted(found, key=lambda comparison: comparison.feature)


def _comparator_anomalies(anomalies: anomalies_pb2.Anomalies) -> anomalies_pb2.Anomalies:
    """Keeps the comparator findings and measurements; the schema checks are ExampleValidator's."""
    kept = anomalies_pb2.Anomalies()
    kept.CopyFrom(anomalies)
    for feature in list(kept.anomaly_info):
        reasons = {reason.type for reason in kept.anomaly_info[feature].reason}
        if not reasons & _COMPARATOR_REASONS:
            del kept.anomaly_info[feature]
    kept.ClearField('dataset_anomaly_info')
    return kept


def _serving_schema_problems(anomalies: anomalies_pb2.Anomalies) -> list[str]:
    return [
        f'serving requests, feature {feature!r}: {info.short_description} ({info.description})'
        for feature, info in sorted(anomalies.anomaly_info.items())
    ]


def _between(check: str, properties: Mapping[str, int]) -> str:
    if check == DRIFT:
        return (
            f'from span {properties[PREVIOUS_SPAN_PROPERTY]} '
            f'to span {properties[CURRENT_SPAN_PROPERTY]}'
        )
    return f'between training and {properties[SERVING_ROWS_PROPERTY]:,} logged serving requests'


def write_results(uri: str, results: Mapping[str, anomalies_pb2.Anomalies]) -> None:
    """Writes the anomalies of each check as the splits of an ExampleAnomalies artifact."""
    for split in ANOMALY_SPLITS:
        io_utils.write_bytes_file(anomalies_path(uri, split), results[split].SerializeToString())


def read_results(uri: str) -> dict[str, anomalies_pb2.Anomalies]:
    """Reads the anomalies of each check back from a DriftValidator output."""
    return {split: read_anomalies(uri, split) for split in ANOMALY_SPLITS}


def findings(
    results: Mapping[str, anomalies_pb2.Anomalies], properties: Mapping[str, int]
) -> tuple[list[Comparison], list[str]]:
    """Every comparison made and every problem of the serving requests against the schema.

    Args:
        results: The anomalies of each check, by split (DRIFT, SKEW, SERVING).
        properties: What was compared: the spans and the number of serving requests.

    Returns:
        The comparisons, drift first, and one line per serving request problem.
    """
    measured = []
    for check in (DRIFT, SKEW):
        measured += comparisons(results[check], check, _between(check, properties))
    return measured, _serving_schema_problems(results[SERVING])


def problems(
    results: Mapping[str, anomalies_pb2.Anomalies], properties: Mapping[str, int]
) -> list[str]:
    """The findings that stop a run: distances above their thresholds, serving problems.

    Args:
        results: The anomalies of each check, by split.
        properties: What was compared.

    Returns:
        One line per finding, naming the feature, what was compared, the distance and the
        threshold; empty when the data may be trained on.
    """
    measured, serving_problems = findings(results, properties)
    return [str(comparison) for comparison in measured if comparison.exceeded] + serving_problems


def summary_lines(uri: str, properties: Mapping[str, int]) -> list[str]:
    """The lines of the end-of-run summary about drift and skew.

    Args:
        uri: The URI of the component's `anomalies` output.
        properties: Its integer custom properties.

    Returns:
        What was compared with what, each distance against its threshold, and whether a
        finding was accepted.
    """
    measured, serving_problems = findings(read_results(uri), properties)
    lines = []
    if not properties.get(PREVIOUS_SPAN_PROPERTY):
        lines.append(f'Drift: span {properties[CURRENT_SPAN_PROPERTY]} has no previous span.')
    if not properties.get(SERVING_COMPARED_PROPERTY):
        lines.append(
            f'Skew: {properties.get(SERVING_ROWS_PROPERTY, 0):,} logged serving requests, too '
            'few to compare with training.'
        )
    lines += [f'  {comparison}' for comparison in measured]
    lines += [f'  {problem}' for problem in serving_problems]
    if properties.get(ACCEPTED_PROPERTY):
        lines.insert(0, 'Drift or skew ACCEPTED by --accept-drift; the run went on to train:')
    elif measured or serving_problems:
        lines.insert(0, 'Drift and skew within the schema thresholds:')
    return lines


def _compute_statistics(
    pipeline: beam.Pipeline,
    sources: Mapping[str, str | list[bytes]],
    options: Mapping[str, tfdv.StatsOptions],
    output_uri: str,
) -> None:
    """Computes TFDV statistics of each source in one Beam pipeline.

    A source is a file pattern of gzip TFRecords or a list of serialized tf.Examples; each
    source's statistics go to `<output_uri>/Split-<name>/FeatureStats.pb`.
    """
    with pipeline:
        for name, source in sources.items():
            if isinstance(source, str):
                batches = (
                    pipeline
                    | f'Read{name}'
                    >> tfxio.TFExampleRecord(
                        file_pattern=source, telemetry_descriptors=['DriftValidator']
                    ).BeamSource()
                )
            else:
                batches = (
                    pipeline
                    | f'Create{name}' >> beam.Create(source)
                    | f'Decode{name}'
                    >> tfxio.TFExampleBeamRecord(
                        physical_format='inmem', telemetry_descriptors=['DriftValidator']
                    ).BeamSource()
                )
            path = statistics_path(output_uri, name)
            _ = (
                batches
                | f'Statistics{name}' >> tfdv.GenerateStatistics(options[name])
                | f'Write{name}' >> tfdv.WriteStatisticsToBinaryFile(path)
            )


def statistics_path(uri: str, split: str) -> str:
    """Where an ExampleStatistics artifact (StatisticsGen's or this one's) keeps a split."""
    return os.path.join(uri, f'Split-{split}', STATISTICS_FILE)


def load_statistics(uri: str, split: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Reads one split's TFDV statistics from an ExampleStatistics artifact's folder."""
    return tfdv.load_stats_binary(statistics_path(uri, split))


def validate_drift_and_skew(
    schema: schema_pb2.Schema,
    current: statistics_pb2.DatasetFeatureStatisticsList,
    previous: statistics_pb2.DatasetFeatureStatisticsList | None = None,
    training: statistics_pb2.DatasetFeatureStatisticsList | None = None,
    serving: statistics_pb2.DatasetFeatureStatisticsList | None = None,
) -> dict[str, anomalies_pb2.Anomalies]:
    """Runs TFDV's drift and skew comparisons that the schema's comparators ask for.

    Args:
        schema: The curated schema, with `drift_comparator`s and `skew_comparator`s.
        current: Statistics of the newest span, computed with the schema.
        previous: Statistics of the span before it; None skips the drift check.
        training: Statistics of the training data; needed for the skew check.
        serving: Statistics of the logged serving requests; None skips the skew check.

    Returns:
        Anomalies by check: DRIFT (comparator findings and measurements), SKEW (the same), and
        SERVING (the serving requests against the schema in its SERVING environment); a
        skipped check has no anomalies.
    """
    results = {split: anomalies_pb2.Anomalies() for split in ANOMALY_SPLITS}
    if previous is not None:
        results[DRIFT] = _comparator_anomalies(
            tfdv.validate_statistics(current, schema, previous_statistics=previous)
        )
    if serving is not None and training is not None:
        results[SKEW] = _comparator_anomalies(
            tfdv.validate_statistics(training, schema, serving_statistics=serving)
        )
        results[SERVING] = tfdv.validate_statistics(
            serving, schema, environment=SERVING_ENVIRONMENT
        )
    return results


@tfx.dsl.components.component(use_beam=True)
def DriftValidator(  # noqa: N802 - TFX names components like classes.
    examples: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples],
    statistics: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleStatistics],
    schema: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Schema],
    drift_statistics: tfx.dsl.components.OutputArtifact[
        tfx.types.standard_artifacts.ExampleStatistics
    ],
    anomalies: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
    data_root: tfx.dsl.components.Parameter[str],
    prediction_log_dir: tfx.dsl.components.Parameter[str],
    accept_drift: tfx.dsl.components.Parameter[bool],
    min_serving_rows: tfx.dsl.components.Parameter[int],
    beam_pipeline: tfx.dsl.components.BeamComponentParameter[beam.Pipeline] = None,
) -> None:
    """Compares the newest span with the previous one, and serving requests with training.

    Args:
        examples: ExampleGen's output for this run; its span is the newest span.
        statistics: StatisticsGen's output for this run; its train split holds the training
            statistics that serving requests are compared with.
        schema: The curated schema with the drift and skew comparators and thresholds.
        drift_statistics: Output: statistics of the previous span, the newest span and the
            logged serving requests, for a person to inspect.
        anomalies: Output: the comparator findings and measurements of each check.
        data_root: The data root with the `span-<N>` folders.
        prediction_log_dir: Where the serving process logs requests as tf.Examples.
        accept_drift: Let the run continue despite findings, which a person reviewed.
        min_serving_rows: Fewest logged requests compared with training; fewer are ignored.
        beam_pipeline: The Beam pipeline that computes the statistics, from the runner's options.

    Raises:
        DataDriftError: With one line per finding, naming the feature, what was compared, the
            distance and the threshold; unless accept_drift.
    """
    curated = tfdv.load_schema_text(os.path.join(schema.uri, SCHEMA_FILE))
    current = resolved_span(examples)
    previous = previous_span(data_root, current)
    serving_records = read_prediction_log(prediction_log_dir)
    compare_serving = len(serving_records) >= min_serving_rows
    if not compare_serving:
        logging.info(
            'Skew: %d logged serving requests in %s, fewer than %d: not compared',
            len(serving_records),
            prediction_log_dir,
            min_serving_rows,
        )

    sources: dict[str, str | list[bytes]] = {
        CURRENT: os.path.join(data_root, span_pattern(current))
    }
    options = {CURRENT: tfdv.StatsOptions(schema=curated)}
    if previous is not None:
        sources[PREVIOUS] = os.path.join(data_root, span_pattern(previous))
        options[PREVIOUS] = options[CURRENT]
    if compare_serving:
        sources[SERVING] = serving_records
        # Requests carry the image alone, besides what the serving process adds about its answer.
        options[SERVING] = tfdv.StatsOptions(schema=curated, feature_allowlist=[IMAGE_KEY])
    _compute_statistics(beam_pipeline, sources, options, drift_statistics.uri)
    drift_statistics.split_names = artifact_utils.encode_split_names(sorted(sources))

    computed = {name: load_statistics(drift_statistics.uri, name) for name in sources}
    results = validate_drift_and_skew(
        curated,
        current=computed[CURRENT],
        previous=computed.get(PREVIOUS),
        training=load_statistics(statistics.uri, TRAIN_SPLIT),
        serving=computed.get(SERVING),
    )
    write_results(anomalies.uri, results)
    anomalies.split_names = artifact_utils.encode_split_names(list(ANOMALY_SPLITS))
    properties = {
        CURRENT_SPAN_PROPERTY: current,
        PREVIOUS_SPAN_PROPERTY: previous or 0,
        SERVING_ROWS_PROPERTY: len(serving_records),
        SERVING_COMPARED_PROPERTY: int(compare_serving),
        ACCEPTED_PROPERTY: 0,
    }

    for comparison in findings(results, properties)[0]:
        logging.info('%s', comparison)
    found = problems(results, properties)
    if found and not accept_drift:
        raise DataDriftError(
            f'{len(found)} drift or skew finding(s) stop this run before training; review '
            'them, then rerun with --accept-drift to train on this data anyway:\n  '
            + '\n  '.join(found)
        )
    if found:
        properties[ACCEPTED_PROPERTY] = 1
        logging.warning(
            'Accepted %d reviewed drift or skew finding(s) (--accept-drift): %s',
            len(found),
            '; '.join(found),
        )
    for name, value in properties.items():
        anomalies.set_int_custom_property(name, value)
