"""Which model serves, from which run, data span and metrics: the pipeline's state from ML Metadata.

    python -m runners.status [--runs 5] [--version N] [pipeline settings] [metadata store]

Prints the newest runs with each component's state and duration, then the served TF Serving
version with the run that pushed it, its data span, accuracy and blessing. `--version N` prints
the chain of any pushed version instead: the Pusher's output, the Evaluator's blessing and
evaluation, the Trainer's model, the Transform graph, the ImportExampleGen examples (span and
rows per split) and the curated schema (its sha256).

The store is the local runner's SQLite file unless a flag names another: `--metadata-sqlite`, a
MySQL database (`--metadata-mysql-host` ...) or an ML Metadata gRPC service, such as Kubeflow
Pipelines' `metadata-grpc-service` on port 8080 (`--metadata-grpc-host` ...). Exit status: 0
when it printed the state, 1 when there is nothing to show (no store, no runs, unknown version,
store unreachable), 2 for bad flags.
"""

from __future__ import annotations

import argparse
import datetime
import sys

from ml_metadata import errors as metadata_errors
from tfx.dsl.io import fileio

from pipeline import config as config_lib
from pipeline import metadata_connection, serving_layout
from pipeline.lineage import (
    MetadataReader,
    ModelLineage,
    PipelineRun,
    UnknownVersionError,
    int_property,
    string_property,
)
from pipeline.run_summary import describe_outcome, read_evaluation, split_rows, summarize_run

DEFAULT_RUNS = 5


def _parse_args(
    argv: list[str],
) -> tuple[argparse.Namespace, config_lib.PipelineConfig, metadata_connection.StoreConfig]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--runs', type=int, default=DEFAULT_RUNS, help='how many recent runs to list'
    )
    parser.add_argument('--version', type=int, help='print the lineage of this pushed version')
    config_lib.add_config_flags(parser)
    metadata_connection.add_connection_flags(parser)
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error(f'--runs must be at least 1, got {args.runs}')
    config = config_lib.config_from_namespace(args)
    try:
        store_config = metadata_connection.connection_from_namespace(args, config.metadata_path)
    except ValueError as error:
        parser.error(str(error))
    return args, config, store_config


def _time(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds).strftime('%Y-%m-%d %H:%M:%S')


def format_runs(runs: list[PipelineRun]) -> list[str]:
    """Lines listing runs, newest first, each with its components' states and durations.

    Args:
        runs: Runs, newest first.

    Returns:
        The lines.
    """
    lines = []
    for run in runs:
        nodes = run.node_runs()
        total = sum(node.seconds for node in nodes)
        outcome = describe_outcome(summarize_run(run, read_artifacts=False))
        if nodes and all(node.state == 'CACHED' for node in nodes):
            outcome += ' (every component cached)'
        lines.append(f'  {run.run_id}  started {_time(run.started)}  {total:6.1f} s  {outcome}')
        lines += [
            f'      {node.node_id:<18} {node.state:<9} {node.seconds:6.1f} s' for node in nodes
        ]
    return lines


def _evaluation_facts(lineage: ModelLineage) -> str:
    if lineage.evaluation is None:
        return 'no evaluation recorded'
    evaluation = read_evaluation(lineage.evaluation.uri)
    if evaluation.accuracy is None:
        return f'no metrics readable at {lineage.evaluation.uri}'
    facts = f'accuracy {evaluation.accuracy:.4f} on {evaluation.rows:,} eval rows'
    if evaluation.baseline_accuracy is not None:
        facts += f' (served model then: {evaluation.baseline_accuracy:.4f})'
    return facts


def _blessing_facts(lineage: ModelLineage) -> str:
    if lineage.blessing is None:
        return 'no blessing recorded'
    return 'BLESSED' if int_property(lineage.blessing, 'blessed') == 1 else 'NOT BLESSED'


def _data_facts(lineage: ModelLineage) -> str:
    spans = lineage.spans
    facts = f'span {spans[0]}' if len(spans) == 1 else f'spans {", ".join(map(str, spans))}'
    if lineage.statistics is not None and fileio.exists(lineage.statistics.uri):
        rows = split_rows(lineage.statistics)
        facts += ': ' + ', '.join(f'{count:,} {split}' for split, count in rows.items()) + ' rows'
    return facts


def format_serving(lineage: ModelLineage, serving_model_dir: str) -> list[str]:
    """Lines about the served version: the run and data that made it, its metrics and blessing.

    Args:
        lineage: The served version's lineage.
        serving_model_dir: Where TF Serving loads it from.

    Returns:
        The lines.
    """
    return [
        f'Serving version {lineage.version} from {serving_model_dir}',
        f'  pushed by run {lineage.run_id} at {_time(lineage.pushed_at)}',
        f'  data: {_data_facts(lineage)}',
        f'  evaluation: {_evaluation_facts(lineage)}; {_blessing_facts(lineage)}',
    ]


def format_chain(lineage: ModelLineage) -> list[str]:
    """Lines following a pushed version back to the artifacts it came from, with their URIs.

    Args:
        lineage: A pushed version's lineage.

    Returns:
        The lines, from the push back to the data and schema.
    """
    destination = string_property(lineage.pushed_model, 'pushed_destination')
    links = [
        ('pushed', f'{destination} at {_time(lineage.pushed_at)}', lineage.pushed_model),
        ('blessing', _blessing_facts(lineage), lineage.blessing),
        ('evaluation', _evaluation_facts(lineage), lineage.evaluation),
        ('model', "the Trainer's SavedModel", lineage.model),
        ('transform', 'the Transform graph', lineage.transform_graph),
        ('transformed', 'the examples the Trainer read', lineage.transformed_examples),
        ('examples', _data_facts(lineage), lineage.examples),
        ('statistics', 'StatisticsGen of those examples', lineage.statistics),
    ]
    if lineage.schema is not None:
        sha256 = string_property(lineage.schema, 'sha256') or 'not recorded'
        links.append(('schema', f'sha256 {sha256}', lineage.schema))
    lines = [f'Version {lineage.version}, pushed by run {lineage.run_id}:']
    for label, facts, artifact in links:
        where = artifact.uri if artifact is not None else 'not recorded'
        lines.append(f'  {label:<11} {facts}')
        lines.append(f'  {"":<11}   {where}')
    return lines


def status_lines(
    reader: MetadataReader, serving_model_dir: str, runs: int, version: int | None
) -> list[str]:
    """Everything `runners.status` prints, given an open store.

    Args:
        reader: Reader of the pipeline's metadata.
        serving_model_dir: TF Serving's model base path, to find the served version.
        runs: How many recent runs to list.
        version: A pushed version to trace instead; None lists runs and the served version.

    Returns:
        The lines.

    Raises:
        LookupError: The pipeline has no runs, or `version` was never pushed.
    """
    if version is not None:
        return format_chain(reader.model_lineage(version))

    recent = reader.runs(limit=runs)
    if not recent:
        raise LookupError(
            f'pipeline {reader.pipeline_name!r} has no runs in the metadata store; '
            'run `make run` first'
        )
    lines = [f'Recent runs of {reader.pipeline_name!r}, newest first:', *format_runs(recent), '']

    served = serving_layout.latest_version(serving_model_dir)
    if served is None:
        lines.append(f'Nothing is served from {serving_model_dir} yet.')
        return lines
    try:
        lines += format_serving(reader.model_lineage(served), serving_model_dir)
    except UnknownVersionError:
        lines.append(
            f'Serving version {served} from {serving_model_dir}, but this metadata store has '
            'no record of pushing it (pushed by another pipeline or store?).'
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Entry point: prints the status, returns the exit status."""
    args, config, store_config = _parse_args(sys.argv[1:] if argv is None else argv)
    where = metadata_connection.describe(store_config)
    try:
        reader = MetadataReader(metadata_connection.open_store(store_config), config.pipeline_name)
        lines = status_lines(reader, config.serving_model_dir, args.runs, args.version)
    except LookupError as error:
        print(f'{error} ({where})', file=sys.stderr)
        return 1
    except metadata_errors.UnavailableError as error:
        print(f'cannot reach the metadata store at {where}: {error}', file=sys.stderr)
        return 1

    print(f'Metadata: {where}')
    print('\n'.join(lines))
    return 0


if __name__ == '__main__':
    sys.exit(main())
