"""The one place where the pipeline's settings are defined, documented and overridden.

Every knob has a default here. `load_config` applies overrides in a fixed order: defaults, then
environment variables named `DIGITS_<FIELD>` (upper case), then command-line flags `--field`.
Runners, the serving process and the benchmarks all read their settings through this module, so
a setting means the same thing everywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Any

ENV_PREFIX = 'DIGITS_'

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class PipelineConfig:
    """Settings of one pipeline: where data and artifacts live, training and blessing knobs.

    Attributes:
        dataset: Name of the data set; the defaults of the paths and names below derive from it.
        pipeline_name: Name of the TFX pipeline, also the folder under the work root.
        data_root: Folder (or URI) holding the numbered spans `span-1/`, `span-2/`, ...
        schema_dir: Folder holding the curated `schema.pbtxt` that new data is validated against.
        work_root: Local folder for pipeline roots and serving models when no URI is given.
        pipeline_root: Where TFX writes every component's artifacts for this pipeline.
        metadata_path: ML Metadata SQLite file of the local runner.
        serving_root: Base folder of TF Serving models; a model lives in `<root>/<model_name>`.
        model_name: The name TF Serving serves the model under.
        train_steps: Training steps (batches); 600 is about 13 passes over the default digits.
        batch_size: Training and evaluation batch size.
        learning_rate: Adam learning rate.
        hidden_units: Width of the model's hidden layer.
        min_accuracy: Absolute lower bound on sparse categorical accuracy on the eval split.
        max_accuracy_drop: Largest accuracy drop against the serving model that still blesses;
            0 means the candidate must be at least as accurate, a negative value demands a gain.
        train_buckets: Hash buckets of each span that go to the train split.
        eval_buckets: Hash buckets of each span that go to the eval split.
        beam_runner: Apache Beam runner for the Beam-based components.
        beam_direct_running_mode: DirectRunner mode: in_memory, multi_threading or
            multi_processing.
        beam_num_workers: DirectRunner workers; 0 means one per CPU.
        beam_extra_args: Further Beam pipeline arguments, space separated.
        enable_cache: Reuse the outputs of components whose inputs did not change.
        span_window: How many of the newest spans a run reads (a rolling window resolved when
            the run starts, clipped to the spans present); 1 trains on the newest span alone.
        accept_drift: Let a run continue although the newest span drifted from the previous
            one, or logged serving requests skewed from training, beyond the schema's
            thresholds; set it for one run after reviewing the findings.
        min_serving_rows: Fewest logged serving requests compared with the training data for
            skew; fewer are not compared (with 50 or more, sampling noise stays far below the
            schema's threshold).
    """

    dataset: str = 'digits'
    pipeline_name: str = ''
    data_root: str = ''
    schema_dir: str = ''
    work_root: str = 'work'
    pipeline_root: str = ''
    metadata_path: str = ''
    serving_root: str = ''
    model_name: str = ''
    train_steps: int = 600
    batch_size: int = 32
    learning_rate: float = 0.003
    hidden_units: int = 64
    min_accuracy: float = 0.9
    max_accuracy_drop: float = 0.01
    train_buckets: int = 4
    eval_buckets: int = 1
    beam_runner: str = 'DirectRunner'
    beam_direct_running_mode: str = 'in_memory'
    beam_num_workers: int = 1
    beam_extra_args: str = ''
    enable_cache: bool = True
    span_window: int = 1
    accept_drift: bool = False
    min_serving_rows: int = 50

    def __post_init__(self) -> None:
        """Fills the names and paths left empty from the data set and work root."""
        defaults = {
            'pipeline_name': self.dataset,
            'data_root': os.path.join('data', self.dataset),
            'schema_dir': os.path.join(_PROJECT_ROOT, 'schema', self.dataset),
            'model_name': self.dataset,
        }
        for name, value in defaults.items():
            if not getattr(self, name):
                object.__setattr__(self, name, value)
        if not self.pipeline_root:
            root = os.path.join(self.work_root, 'pipelines', self.pipeline_name)
            object.__setattr__(self, 'pipeline_root', root)
        if not self.metadata_path:
            path = os.path.join(self.pipeline_root, 'metadata.sqlite')
            object.__setattr__(self, 'metadata_path', path)
        if not self.serving_root:
            object.__setattr__(self, 'serving_root', os.path.join(self.work_root, 'serving'))
        for name in ('data_root', 'schema_dir', 'pipeline_root', 'metadata_path', 'serving_root'):
            object.__setattr__(self, name, absolute_uri(getattr(self, name)))
        self._check()

    def _check(self) -> None:
        if not 0.0 <= self.min_accuracy <= 1.0:
            raise ValueError(f'min_accuracy must lie in [0, 1], got {self.min_accuracy}')
        for name in (
            'train_steps',
            'batch_size',
            'train_buckets',
            'eval_buckets',
            'span_window',
            'min_serving_rows',
        ):
            if getattr(self, name) < 1:
                raise ValueError(f'{name} must be at least 1, got {getattr(self, name)}')
        if self.beam_num_workers < 0:
            raise ValueError(
                f'beam_num_workers must be 0 (one per CPU) or more, got {self.beam_num_workers}'
            )
        modes = ('in_memory', 'multi_threading', 'multi_processing')
        if self.beam_direct_running_mode not in modes:
            raise ValueError(
                f'beam_direct_running_mode must be one of {", ".join(modes)}, '
                f'got {self.beam_direct_running_mode!r}'
            )

    @property
    def serving_model_dir(self) -> str:
        """TF Serving's model base path: integer version folders live directly below it."""
        return os.path.join(self.serving_root, self.model_name)

    @property
    def prediction_log_dir(self) -> str:
        """Where the serving process logs requests, for later skew and drift checks."""
        return os.path.join(self.pipeline_root, 'prediction_log')

    @property
    def curated_schema_path(self) -> str:
        """The curated schema file that new data is validated against."""
        return os.path.join(self.schema_dir, 'schema.pbtxt')

    def beam_pipeline_args(self) -> list[str]:
        """Beam arguments every Beam-based component receives."""
        args = [f'--runner={self.beam_runner}']
        if self.beam_runner == 'DirectRunner':
            args += [
                f'--direct_running_mode={self.beam_direct_running_mode}',
                f'--direct_num_workers={self.beam_num_workers}',
            ]
        return args + self.beam_extra_args.split()


def absolute_uri(uri: str) -> str:
    """Makes a local path absolute and leaves URIs with a scheme (gs://, s3://) unchanged."""
    if '://' in uri:
        return uri
    return os.path.abspath(uri)


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """Adds one `--field` flag per PipelineConfig field to an argument parser."""
    for field in dataclasses.fields(PipelineConfig):
        flag = '--' + field.name.replace('_', '-')
        kind = _field_type(field)
        if kind is bool:
            # `--accept-drift` alone means true; `--enable-cache false` still works.
            parser.add_argument(
                flag, dest=field.name, type=_parse_bool, nargs='?', const=True, default=None
            )
        else:
            parser.add_argument(flag, dest=field.name, type=kind, default=None)


def config_from_namespace(
    args: argparse.Namespace, env: Mapping[str, str] | None = None
) -> PipelineConfig:
    """Builds the config from defaults, then `DIGITS_*` environment variables, then flags."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for field in dataclasses.fields(PipelineConfig):
        kind = _field_type(field)
        env_value = env.get(ENV_PREFIX + field.name.upper())
        if env_value is not None and env_value != '':
            values[field.name] = _parse_bool(env_value) if kind is bool else kind(env_value)
        flag_value = getattr(args, field.name, None)
        if flag_value is not None:
            values[field.name] = flag_value
    return PipelineConfig(**values)


def load_config(
    argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None
) -> PipelineConfig:
    """Parses config flags alone (no other flags) and applies the documented override order."""
    parser = argparse.ArgumentParser(description='Pipeline settings.')
    add_config_flags(parser)
    return config_from_namespace(parser.parse_args(argv), env)


def _field_type(field: dataclasses.Field) -> type:
    return {'str': str, 'int': int, 'float': float, 'bool': bool}[str(field.type)]


def _parse_bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in ('1', 'true', 'yes', 'on'):
        return True
    if lowered in ('0', 'false', 'no', 'off'):
        return False
    raise argparse.ArgumentTypeError(f'expected true or false, got {text!r}')
