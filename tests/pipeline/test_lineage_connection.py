"""Choosing the metadata store: the local SQLite file, a cluster's MySQL or its gRPC service."""

import argparse

import pytest
from ml_metadata.proto import metadata_store_pb2

from pipeline import metadata_connection
from pipeline.metadata_connection import (
    MetadataStoreMissingError,
    connection_from_namespace,
    describe,
    open_store,
)

LOCAL_STORE = '/work/pipelines/digits/metadata.sqlite'


def parse(*flags):
    parser = argparse.ArgumentParser()
    metadata_connection.add_connection_flags(parser)
    return parser.parse_args(list(flags))


def test_without_flags_the_local_sqlite_store_is_opened_read_only():
    config = connection_from_namespace(parse(), LOCAL_STORE)

    assert config.sqlite.filename_uri == LOCAL_STORE
    assert config.sqlite.connection_mode == metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    assert describe(config) == f'SQLite {LOCAL_STORE}'


def test_sqlite_flag_names_another_file():
    config = connection_from_namespace(parse('--metadata-sqlite', '/elsewhere/m.db'), LOCAL_STORE)

    assert config.sqlite.filename_uri == '/elsewhere/m.db'


def test_mysql_flags_build_a_connection_that_never_creates_the_database():
    flags = parse(
        '--metadata-mysql-host=mysql.kubeflow',
        '--metadata-mysql-port=3307',
        '--metadata-mysql-database=metadb',
        '--metadata-mysql-user=reader',
        '--metadata-mysql-password=s3cret',
    )

    config = connection_from_namespace(flags, LOCAL_STORE)

    assert config.WhichOneof('config') == 'mysql'
    assert (config.mysql.host, config.mysql.port) == ('mysql.kubeflow', 3307)
    assert (config.mysql.database, config.mysql.user) == ('metadb', 'reader')
    assert config.mysql.password == 's3cret'
    assert config.mysql.skip_db_creation
    assert describe(config) == 'MySQL reader@mysql.kubeflow:3307/metadb'


def test_mysql_defaults_match_a_kubeflow_pipelines_install():
    config = connection_from_namespace(parse('--metadata-mysql-host=127.0.0.1'), LOCAL_STORE)

    assert (config.mysql.port, config.mysql.database, config.mysql.user) == (3306, 'metadb', 'root')
    assert config.mysql.password == ''


def test_grpc_flags_build_a_client_config_on_kubeflows_port_8080_by_default():
    config = connection_from_namespace(
        parse('--metadata-grpc-host=metadata-grpc-service.kubeflow'), LOCAL_STORE
    )

    assert isinstance(config, metadata_store_pb2.MetadataStoreClientConfig)
    assert (config.host, config.port) == ('metadata-grpc-service.kubeflow', 8080)
    assert describe(config) == 'gRPC metadata-grpc-service.kubeflow:8080'


def test_grpc_port_flag_overrides_the_default():
    config = connection_from_namespace(
        parse('--metadata-grpc-host=127.0.0.1', '--metadata-grpc-port=18080'), LOCAL_STORE
    )

    assert config.port == 18080


def test_naming_two_stores_is_refused():
    flags = parse('--metadata-grpc-host=127.0.0.1', '--metadata-mysql-host=127.0.0.1')

    with pytest.raises(ValueError, match='choose one metadata store'):
        connection_from_namespace(flags, LOCAL_STORE)


def test_a_missing_local_store_says_to_run_the_pipeline_first(tmp_path):
    config = metadata_connection.sqlite_connection(str(tmp_path / 'metadata.sqlite'))

    with pytest.raises(MetadataStoreMissingError, match='run `make run` first'):
        open_store(config)
    assert not (tmp_path / 'metadata.sqlite').exists()
