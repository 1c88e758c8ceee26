"""Settings of the serving process that the pipeline's own config does not cover.

Where the model lives and where predictions are logged come from `pipeline.config`
(`PipelineConfig.serving_model_dir` and `.prediction_log_dir`), so the pipeline and the server
agree on paths. This module holds what only the server needs: where it listens, how often it
looks for new versions, and the limits it puts on requests.
"""

from __future__ import annotations

import argparse
import dataclasses

BACKENDS = ('auto', 'tf-serving', 'stand-in')


@dataclasses.dataclass(frozen=True)
class ServingOptions:
    """Settings of one serving process.

    Attributes:
        host: Address the REST API listens on; loopback by default, so that nothing is exposed
            by accident. Only the stand-in honours it: TF Serving's REST port has no such flag.
        port: REST API port; 8501 is TF Serving's usual REST port.
        backend: 'auto' runs `tensorflow_model_server` when it is on PATH and the stand-in
            otherwise; 'tf-serving' or 'stand-in' force one of them.
        poll_interval_s: Seconds between two scans of the serving model dir for new versions.
        num_versions: How many of the newest loadable versions stay loaded and addressable, as
            TF Serving's `latest` version policy with `num_versions`.
        max_batch_rows: Most rows (instances) one predict request may carry.
        max_body_bytes: Largest request body accepted, in bytes.
        prediction_log: Whether each prediction is logged as a tf.Example (stand-in only).
    """

    host: str = '127.0.0.1'
    port: int = 8501
    backend: str = 'auto'
    poll_interval_s: float = 2.0
    num_versions: int = 2
    max_batch_rows: int = 1024
    max_body_bytes: int = 4 * 1024 * 1024
    prediction_log: bool = True

    def __post_init__(self) -> None:
        """Rejects settings the server cannot run with."""
        if self.backend not in BACKENDS:
            raise ValueError(f'backend must be one of {", ".join(BACKENDS)}, got {self.backend!r}')
        if not 0 <= self.port <= 65535:
            raise ValueError(f'port must lie in [0, 65535], got {self.port}')
        if self.poll_interval_s <= 0:
            raise ValueError(f'poll_interval_s must be positive, got {self.poll_interval_s}')
        for name in ('num_versions', 'max_batch_rows', 'max_body_bytes'):
            if getattr(self, name) < 1:
                raise ValueError(f'{name} must be at least 1, got {getattr(self, name)}')


def add_serving_flags(parser: argparse.ArgumentParser) -> None:
    """Adds one flag per ServingOptions field; defaults stay in the dataclass.

    Args:
        parser: The parser of `python -m serving` or of a benchmark.
    """
    parser.add_argument('--host', help='listen address (stand-in only); default 127.0.0.1')
    parser.add_argument('--port', type=int, help='REST API port; default 8501')
    parser.add_argument('--backend', choices=BACKENDS, help='which server runs; default auto')
    parser.add_argument(
        '--poll-interval',
        dest='poll_interval_s',
        type=float,
        help='seconds between scans for new model versions; default 2',
    )
    parser.add_argument('--num-versions', type=int, help='newest versions kept loaded; default 2')
    parser.add_argument(
        '--max-batch-rows', type=int, help='most rows in one predict request; default 1024'
    )
    parser.add_argument(
        '--max-body-bytes', type=int, help='largest request body in bytes; default 4 MiB'
    )
    parser.add_argument(
        '--no-prediction-log',
        dest='prediction_log',
        action='store_false',
        default=None,
        help='do not log predictions under the pipeline root',
    )


def options_from_namespace(args: argparse.Namespace) -> ServingOptions:
    """Builds ServingOptions from parsed flags, keeping the dataclass default for absent ones.

    Args:
        args: Flags parsed by a parser that `add_serving_flags` set up.

    Returns:
        The options of this serving process.
    """
    values = {}
    for field in dataclasses.fields(ServingOptions):
        value = getattr(args, field.name, None)
        if value is not None:
            values[field.name] = value
    return ServingOptions(**values)
