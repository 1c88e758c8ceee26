"""`python -m runners.status`: which model serves, from which run, span and metrics.

The end-to-end tests read the store of three real runs (`recorded_runs` in tests/conftest.py):
a blessed push, a retrained candidate not blessed against it, and a run stopped by anomalies.
"""

import contextlib
import os
import re
import socket
from concurrent import futures

import grpc
import pytest
from ml_metadata import errors as metadata_errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2, metadata_store_service_pb2

from pipeline import serving_layout
from pipeline.metadata_connection import sqlite_connection
from runners import status

_GRPC_CODES = {code.value[0]: code for code in grpc.StatusCode}


@pytest.fixture(scope='module')
def runs(recorded_runs):
    """The recorded runs with their ids and summary lines, as the local runner printed them."""
    run_ids = [re.search(r'Run (\S+) of pipeline', output)[1] for output in recorded_runs.outputs]
    accuracy = re.search(r'Accuracy on ([\d,]+) eval rows: (\d\.\d{4})', recorded_runs.outputs[0])
    return {
        'config': recorded_runs.config,
        'run_ids': run_ids,
        'eval_rows': accuracy[1],
        'accuracy': accuracy[2],
        'served': serving_layout.latest_version(recorded_runs.config.serving_model_dir),
    }


def run_status(capsys, *flags):
    code = status.main(list(flags))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.e2e
def test_status_names_the_served_version_its_run_span_and_accuracy(runs, capsys):
    code, out, err = run_status(capsys, f'--work-root={runs["config"].work_root}')

    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f'Metadata: SQLite {runs["config"].metadata_path}'
    serving = lines.index(
        f'Serving version {runs["served"]} from {runs["config"].serving_model_dir}'
    )
    assert lines[serving + 1].startswith(f'  pushed by run {runs["run_ids"][0]} at ')
    assert re.fullmatch(
        rf'  data: span 1: [\d,]+ train, {runs["eval_rows"]} eval rows', lines[serving + 2]
    )
    assert lines[serving + 3] == (
        f'  evaluation: accuracy {runs["accuracy"]} on {runs["eval_rows"]} eval rows; BLESSED'
    )


@pytest.mark.e2e
def test_status_lists_runs_newest_first_with_outcome_and_component_states(runs, capsys):
    code, out, _ = run_status(capsys, f'--work-root={runs["config"].work_root}')

    assert code == 0
    first, second, third = runs['run_ids']
    run_lines = [line for line in out.splitlines() if '  started ' in line]
    assert [line.split()[0] for line in run_lines] == [third, second, first]
    assert run_lines[0].endswith('the run FAILED at AnomaliesGate')
    assert run_lines[1].endswith('NOT BLESSED (thresholds not met). Nothing pushed')
    serving_dir = runs['config'].serving_model_dir
    assert run_lines[2].endswith(f'BLESSED and pushed to {serving_dir}/{runs["served"]}')
    assert re.search(r'\n      AnomaliesGate\s+FAILED\s+\d+\.\d s\n', out)
    assert re.search(r'\n      Trainer\s+COMPLETE\s+\d+\.\d s\n', out)


@pytest.mark.e2e
def test_runs_flag_limits_the_list_to_the_newest(runs, capsys):
    code, out, _ = run_status(capsys, f'--work-root={runs["config"].work_root}', '--runs=1')

    assert code == 0
    assert [line.split()[0] for line in out.splitlines() if '  started ' in line] == [
        runs['run_ids'][2]
    ]
    assert f'Serving version {runs["served"]}' in out


@pytest.mark.e2e
def test_version_chain_leads_back_to_examples_on_disk_and_the_curated_schema(runs, capsys):
    code, out, _ = run_status(
        capsys, f'--work-root={runs["config"].work_root}', f'--version={runs["served"]}'
    )

    assert code == 0
    lines = out.splitlines()
    assert lines[1] == f'Version {runs["served"]}, pushed by run {runs["run_ids"][0]}:'
    chain = {
        facts.split()[0]: (' '.join(facts.split()), uri.strip())
        for facts, uri in zip(lines[2::2], lines[3::2], strict=True)
    }
    pipeline_root = runs['config'].pipeline_root
    facts, examples_uri = chain['examples']
    assert re.fullmatch(
        r'examples span 1: [\d,]+ train, ' + runs['eval_rows'] + ' eval rows', facts
    )
    assert examples_uri.startswith(f'{pipeline_root}/ImportExampleGen/examples/')
    assert os.path.isdir(os.path.join(examples_uri, 'Split-eval'))
    assert re.fullmatch('schema sha256 [0-9a-f]{64}', chain['schema'][0])
    assert chain['transform'][1].startswith(f'{pipeline_root}/Transform/transform_graph/')
    assert chain['model'][1].startswith(f'{pipeline_root}/Trainer/model/')
    assert chain['evaluation'][0] == (
        f'evaluation accuracy {runs["accuracy"]} on {runs["eval_rows"]} eval rows'
    )
    assert chain['blessing'][0] == 'blessing BLESSED'
    for _, uri in chain.values():
        assert os.path.exists(uri), uri


@pytest.mark.e2e
def test_unknown_version_exits_1_naming_the_pushed_versions(runs, capsys):
    code, out, err = run_status(
        capsys, f'--work-root={runs["config"].work_root}', '--version=12345'
    )

    assert code == 1
    assert out == ''
    assert f'never pushed version 12345; versions it pushed: {runs["served"]}' in err


@contextlib.contextmanager
def grpc_metadata_service(sqlite_path):
    """Serves a SQLite store over ML Metadata's gRPC API on loopback, as Kubeflow's service does.

    Each call goes to the library's own store implementation (`_call_method`, private), so the
    client sees exactly the answers a metadata-grpc-service over the same data would give.
    """
    store = metadata_store.MetadataStore(sqlite_connection(sqlite_path))
    service = metadata_store_service_pb2.DESCRIPTOR.services_by_name['MetadataStoreService']

    def handler(method):
        response_class = getattr(metadata_store_service_pb2, method.output_type.name)

        def call(request, context):
            response = response_class()
            try:
                store._call_method(method.name, request, response)
            except metadata_errors.StatusError as error:
                context.abort(_GRPC_CODES[error.error_code], str(error))
            return response

        return grpc.unary_unary_rpc_method_handler(
            call,
            request_deserializer=getattr(
                metadata_store_service_pb2, method.input_type.name
            ).FromString,
            response_serializer=response_class.SerializeToString,
        )

    handlers = {method.name: handler(method) for method in service.methods}
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(service.full_name, handlers)]
    )
    port = server.add_insecure_port('127.0.0.1:0')
    server.start()
    try:
        yield port
    finally:
        server.stop(None)


@pytest.mark.e2e
def test_status_over_grpc_reads_the_same_as_the_sqlite_file(runs, capsys):
    work_root = f'--work-root={runs["config"].work_root}'
    _, local, _ = run_status(capsys, work_root)

    with grpc_metadata_service(runs['config'].metadata_path) as port:
        code, remote, err = run_status(
            capsys, work_root, '--metadata-grpc-host=127.0.0.1', f'--metadata-grpc-port={port}'
        )

    assert code == 0, err
    assert remote.splitlines()[0] == f'Metadata: gRPC 127.0.0.1:{port}'
    assert remote.splitlines()[1:] == local.splitlines()[1:]


def test_no_metadata_store_yet_says_run_make_run_first(tmp_path, capsys):
    code, out, err = run_status(capsys, f'--work-root={tmp_path}')

    assert code == 1
    assert out == ''
    assert 'no metadata store at ' in err and 'run `make run` first' in err
    assert not (tmp_path / 'pipelines').exists()


def test_store_without_runs_says_so(tmp_path, capsys):
    path = tmp_path / 'metadata.sqlite'
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    metadata_store.MetadataStore(config)

    code, out, err = run_status(capsys, f'--metadata-sqlite={path}')

    assert code == 1
    assert "pipeline 'digits' has no runs in the metadata store; run `make run` first" in err


def test_unreachable_grpc_store_is_named(capsys):
    with socket.socket() as unused:
        unused.bind(('127.0.0.1', 0))
        port = unused.getsockname()[1]
        code, out, err = run_status(
            capsys, '--metadata-grpc-host=127.0.0.1', f'--metadata-grpc-port={port}'
        )

    assert code == 1
    assert f'cannot reach the metadata store at gRPC 127.0.0.1:{port}' in err


def test_two_stores_at_once_are_refused_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        status.main(['--metadata-sqlite=/tmp/a.sqlite', '--metadata-grpc-host=127.0.0.1'])

    assert exit_info.value.code == 2
    assert 'choose one metadata store' in capsys.readouterr().err
