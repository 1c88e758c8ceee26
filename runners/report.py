"""Writes the HTML report of the newest pipeline run again, or of any run by its id.

    python -m runners.report [--run-id ID] [pipeline settings] [metadata store]

The local runner writes a report after every run; this rewrites one, for example after the
report's layout changed, or for a run on Kubeflow whose metadata store is reachable (see
`runners.status` for the store flags). Reports go to `<pipeline root>/reports/<run id>.html`,
and the newest run's also to `latest.html`. Exit status: 0 when written, 1 when there is no such
run or no store.
"""

from __future__ import annotations

import argparse
import sys

from absl import logging
from ml_metadata import errors as metadata_errors

from pipeline import config as config_lib
from pipeline import metadata_connection
from pipeline.report.run_report import write_run_report


def main(argv: list[str] | None = None) -> int:
    """Entry point: writes the report, returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--run-id', help='the run to report on; default: the newest')
    config_lib.add_config_flags(parser)
    metadata_connection.add_connection_flags(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    config = config_lib.config_from_namespace(args)
    try:
        store_config = metadata_connection.connection_from_namespace(args, config.metadata_path)
    except ValueError as error:
        parser.error(str(error))

    logging.set_verbosity(logging.INFO)
    where = metadata_connection.describe(store_config)
    try:
        path = write_run_report(
            store_config, config.pipeline_name, config.pipeline_root, args.run_id
        )
    except LookupError as error:
        logging.error('%s (%s)', error, where)
        return 1
    except metadata_errors.UnavailableError as error:
        logging.error('Cannot reach the metadata store at %s: %s', where, error)
        return 1
    print(path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
