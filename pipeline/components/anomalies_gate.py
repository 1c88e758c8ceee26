"""AnomaliesGate: stops the run before Transform when ExampleValidator found anomalies.

Nothing downstream of TFX's ExampleValidator consumes its output, so by default Transform,
Trainer and Pusher carry on whatever it found. This component reads the anomalies of every
split and fails the run with a message naming each feature and problem; Transform is made to
wait for it.
"""

import os

from absl import logging
from tensorflow_metadata.proto.v0 import anomalies_pb2
from tfx import v1 as tfx
from tfx.types import artifact_utils
from tfx.utils import io_utils

ANOMALIES_FILE = 'SchemaDiff.pb'


class DataAnomaliesError(RuntimeError):
    """The new data broke the curated schema; the message lists every anomaly found."""


def anomalies_path(uri: str, split: str) -> str:
    """Where an ExampleAnomalies artifact keeps one split's Anomalies proto."""
    return os.path.join(uri, f'Split-{split}', ANOMALIES_FILE)


def read_anomalies(uri: str, split: str) -> anomalies_pb2.Anomalies:
    """Reads one split's Anomalies proto from an ExampleAnomalies artifact's folder."""
    anomalies = anomalies_pb2.Anomalies()
    anomalies.ParseFromString(io_utils.read_bytes_file(anomalies_path(uri, split)))
    return anomalies


def describe_anomalies(uri: str, split_names: str) -> list[str]:
    """Lists one line per anomaly: split, feature, short and long description.

    Args:
        uri: The URI of an ExampleAnomalies artifact written by ExampleValidator.
        split_names: The artifact's `split_names` property, e.g. '["train", "eval"]'.

    Returns:
        Lines such as `split train, feature 'image': Out-of-range values (Unexpectedly large
        value: 255.)`, empty when the data matched the schema.
    """
    lines = []
    for split in artifact_utils.decode_split_names(split_names):
        anomalies = read_anomalies(uri, split)
        for feature, info in sorted(anomalies.anomaly_info.items()):
            lines.append(
                f'split {split}, feature {feature!r}: {info.short_description} ({info.description})'
            )
        if anomalies.HasField('dataset_anomaly_info'):
            info = anomalies.dataset_anomaly_info
            lines.append(f'split {split}, dataset: {info.short_description} ({info.description})')
    return lines


@tfx.dsl.components.component
def AnomaliesGate(  # noqa: N802 - TFX names components like classes.
    anomalies: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.ExampleAnomalies],
) -> None:
    """Fails when the anomalies artifact holds any anomaly, so nothing trains on bad data.

    Args:
        anomalies: ExampleValidator's output for the span being ingested.

    Raises:
        DataAnomaliesError: With one line per anomaly, naming split, feature and problem.
    """
    problems = describe_anomalies(anomalies.uri, anomalies.split_names)
    if problems:
        raise DataAnomaliesError(
            f'{len(problems)} data anomalies against the curated schema stop this run before '
            'training:\n  ' + '\n  '.join(problems)
        )
    logging.info('No anomalies against the curated schema in %s', anomalies.uri)
