"""Runs the pipeline on this machine with TFX's BeamDagRunner and ML Metadata in SQLite.

    python -m runners.local_runner [--dataset digits] [--min-accuracy 0.9] [--verbose] ...

Every setting of `pipeline.config` is a flag here and an environment variable `DIGITS_<NAME>`.
The run checks the data root first, shows one line per component, ends with a summary of the
data, the evaluation and the push decision, and writes the run's HTML report to
`<pipeline root>/reports/` (`python -m runners.report` rewrites it). Exit status: 0 when the
run completed (blessed or not), 1 when a component failed, 2 for bad input found before the run.
"""

from __future__ import annotations

import argparse
import sys
import time

from absl import logging
from google.protobuf import text_format
from tfx import v1 as tfx
from tfx.orchestration.beam.beam_dag_runner import BeamDagRunner

from dataprep.check import check_data_root
from dataprep.errors import DataError
from models.image_spec import load_schema
from pipeline import config as config_lib
from pipeline.metadata_connection import sqlite_connection
from pipeline.pipeline import create_pipeline
from pipeline.report.run_report import write_run_report
from pipeline.run_summary import format_summary, read_run_summary
from runners import progress


def _parse_args(argv: list[str]) -> tuple[config_lib.PipelineConfig, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    config_lib.add_config_flags(parser)
    parser.add_argument('--verbose', action='store_true', help='show every library log line')
    args = parser.parse_args(argv)
    try:
        return config_lib.config_from_namespace(args), args.verbose
    except ValueError as error:
        parser.error(str(error))


def _preflight(config: config_lib.PipelineConfig) -> None:
    """Stops before any component runs when the data root or the schema is unusable."""
    report = check_data_root(config.data_root)
    logging.info(
        'Data root %s: span %d, %s examples of %dx%d pixels in %d file(s)',
        config.data_root,
        report.span,
        f'{report.num_records:,}',
        report.image_size,
        report.image_size,
        len(report.files),
    )
    if not tfx.dsl.io.fileio.exists(config.curated_schema_path):
        raise DataError(
            f'{config.curated_schema_path}: no curated schema for data set {config.dataset!r}; '
            f'create one with `make schema DATASET={config.dataset}` and review it'
        )
    try:
        load_schema(config.curated_schema_path)
    except (text_format.ParseError, UnicodeDecodeError) as error:
        raise DataError(f'{config.curated_schema_path}: not a valid schema: {error}') from error


def run(config: config_lib.PipelineConfig, verbose: bool = False) -> int:
    """Runs the pipeline once and prints its summary.

    Args:
        config: The pipeline's settings.
        verbose: Show all library logs instead of one line per component.

    Returns:
        The process exit status.
    """
    progress.install(0, verbose)
    try:
        _preflight(config)
    except DataError as error:
        logging.error('Bad input, nothing ran: %s', error)
        return 2

    pipeline = create_pipeline(
        config,
        metadata_connection_config=tfx.orchestration.metadata.sqlite_metadata_connection_config(
            config.metadata_path
        ),
    )
    progress.install(len(pipeline.components), verbose)

    started = time.monotonic()
    failure = None
    try:
        BeamDagRunner().run(pipeline)
    except Exception as error:  # Any component failure ends the run the same way.
        failure = error
    elapsed = time.monotonic() - started

    summary = read_run_summary(sqlite_connection(config.metadata_path), config.pipeline_name)
    text = format_summary(
        summary, config.min_accuracy, config.max_accuracy_drop, config.serving_model_dir
    )
    logging.info('Pipeline finished in %.1f s\n%s', elapsed, text)
    try:
        write_run_report(
            sqlite_connection(config.metadata_path), config.pipeline_name, config.pipeline_root
        )
    except Exception:  # The run's outcome stands; a broken report must not hide it.
        logging.exception('Could not write the run report; `make report` retries it')
    if failure is not None:
        logging.error('The run failed: %s', _last_lines(str(failure)))
        return 1
    return 0


def _last_lines(message: str, count: int = 12) -> str:
    """The end of a (possibly Beam-wrapped) error message, where the cause is."""
    return '\n'.join(message.strip().splitlines()[-count:])


def main(argv: list[str] | None = None) -> int:
    """Entry point: parses flags, runs, returns the exit status."""
    config, verbose = _parse_args(sys.argv[1:] if argv is None else argv)
    return run(config, verbose)


if __name__ == '__main__':
    sys.exit(main())
