"""Where ML Metadata lives: a local SQLite file, or a Kubeflow cluster's store by MySQL or gRPC.

The local runner keeps ML Metadata in a SQLite file under the pipeline root. On Kubeflow
Pipelines the store is a MySQL database behind the `metadata-grpc-service` (port 8080); a reader
outside the cluster reaches either through `kubectl port-forward`. Every reader in this project
(the end-of-run summary, `runners.status`, the run report) opens its store through `open_store`,
so each of them works against any of the three.
"""

from __future__ import annotations

import argparse
import os

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

# The port Kubeflow Pipelines' `metadata-grpc-service` listens on.
KFP_METADATA_GRPC_PORT = 8080
MYSQL_PORT = 3306

StoreConfig = metadata_store_pb2.ConnectionConfig | metadata_store_pb2.MetadataStoreClientConfig


class MetadataStoreMissingError(LookupError):
    """The local metadata store does not exist yet: no pipeline has run against it."""


def sqlite_connection(path: str) -> metadata_store_pb2.ConnectionConfig:
    """Connection config of a local SQLite metadata store, opened read-only.

    Args:
        path: The SQLite file the local runner writes.

    Returns:
        The config; opening it never creates or changes the file.
    """
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = path
    config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
    return config


def mysql_connection(
    host: str, port: int, database: str, user: str, password: str = ''
) -> metadata_store_pb2.ConnectionConfig:
    """Connection config of a metadata store in MySQL, such as Kubeflow Pipelines' own.

    Args:
        host: MySQL host name or address.
        port: MySQL port.
        database: The database holding ML Metadata (`metadb` in a Kubeflow install).
        user: MySQL user.
        password: That user's password; empty for none.

    Returns:
        The config. It never creates the database: a reader must not make an empty store.
    """
    config = metadata_store_pb2.ConnectionConfig()
    config.mysql.host = host
    config.mysql.port = port
    config.mysql.database = database
    config.mysql.user = user
    config.mysql.password = password
    config.mysql.skip_db_creation = True
    return config


def grpc_connection(
    host: str, port: int = KFP_METADATA_GRPC_PORT
) -> metadata_store_pb2.MetadataStoreClientConfig:
    """Client config of an ML Metadata gRPC service, such as Kubeflow's `metadata-grpc-service`.

    Args:
        host: Service host name or address.
        port: Service port.

    Returns:
        The client config.
    """
    return metadata_store_pb2.MetadataStoreClientConfig(host=host, port=port)


def describe(config: StoreConfig) -> str:
    """Names a store for people: `SQLite <path>`, `MySQL <user>@<host>:<port>/<db>`, `gRPC ...`."""
    if isinstance(config, metadata_store_pb2.MetadataStoreClientConfig):
        return f'gRPC {config.host}:{config.port}'
    if config.HasField('mysql'):
        mysql = config.mysql
        return f'MySQL {mysql.user}@{mysql.host}:{mysql.port}/{mysql.database}'
    return f'SQLite {config.sqlite.filename_uri}'


def open_store(config: StoreConfig) -> metadata_store.MetadataStore:
    """Opens a metadata store for reading.

    Args:
        config: Where the store is.

    Returns:
        The store client.

    Raises:
        MetadataStoreMissingError: The config names a SQLite file that does not exist.
    """
    if isinstance(config, metadata_store_pb2.ConnectionConfig) and config.HasField('sqlite'):
        path = config.sqlite.filename_uri
        if not os.path.exists(path):
            raise MetadataStoreMissingError(
                f'no metadata store at {path}: no pipeline has run here yet; run `make run` first'
            )
    return metadata_store.MetadataStore(config)


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """Adds the flags that choose a metadata store: SQLite file, MySQL or gRPC service."""
    group = parser.add_argument_group(
        'metadata store', 'Default: the local SQLite store at the --metadata-path setting.'
    )
    group.add_argument('--metadata-sqlite', metavar='PATH', help='a local SQLite store')
    group.add_argument('--metadata-mysql-host', help='MySQL host of a cluster store')
    group.add_argument('--metadata-mysql-port', type=int, default=MYSQL_PORT)
    group.add_argument('--metadata-mysql-database', default='metadb')
    group.add_argument('--metadata-mysql-user', default='root')
    group.add_argument('--metadata-mysql-password', default='')
    group.add_argument(
        '--metadata-grpc-host', help='ML Metadata gRPC service, e.g. metadata-grpc-service'
    )
    group.add_argument('--metadata-grpc-port', type=int, default=KFP_METADATA_GRPC_PORT)


def connection_from_namespace(args: argparse.Namespace, default_sqlite_path: str) -> StoreConfig:
    """Builds the store config the connection flags ask for.

    Args:
        args: Parsed flags from a parser given `add_connection_flags`.
        default_sqlite_path: The SQLite store used when no flag names another one.

    Returns:
        The gRPC, MySQL or SQLite config.

    Raises:
        ValueError: Flags name more than one kind of store.
    """
    chosen = [
        name
        for name, value in (
            ('--metadata-sqlite', args.metadata_sqlite),
            ('--metadata-mysql-host', args.metadata_mysql_host),
            ('--metadata-grpc-host', args.metadata_grpc_host),
        )
        if value
    ]
    if len(chosen) > 1:
        raise ValueError(f'choose one metadata store, got {" and ".join(chosen)}')
    if args.metadata_grpc_host:
        return grpc_connection(args.metadata_grpc_host, args.metadata_grpc_port)
    if args.metadata_mysql_host:
        return mysql_connection(
            args.metadata_mysql_host,
            args.metadata_mysql_port,
            args.metadata_mysql_database,
            args.metadata_mysql_user,
            args.metadata_mysql_password,
        )
    return sqlite_connection(args.metadata_sqlite or default_sqlite_path)
