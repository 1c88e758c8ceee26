"""Entry point of `python -m dataprep`; see `dataprep.cli` for the commands."""

from __future__ import annotations

import argparse

from absl import app, flags, logging

from dataprep import cli


def _parse_args(argv: list[str]) -> argparse.Namespace:
    args = cli.build_parser().parse_args(argv[1:])
    # absl's own flags are not offered, but app.run insists they are parsed.
    flags.FLAGS(argv[:1])
    return args


def _main(args: argparse.Namespace) -> int:
    logging.set_verbosity(logging.INFO)
    return cli.run(args)


if __name__ == '__main__':
    app.run(_main, flags_parser=_parse_args)
