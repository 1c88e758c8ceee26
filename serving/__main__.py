"""`python -m serving`: serves the newest pushed model over TF Serving's REST API.

Runs `tensorflow_model_server` where it is on PATH and the FastAPI stand-in otherwise (see
`serving.stand_in`); `--backend` forces one. Paths come from the pipeline's config flags
(`--serving-root`, `--model-name`, `--work-root`, ...), serving settings from `--host`,
`--port`, `--poll-interval` and the request limits.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from absl import app, logging
from absl.flags import argparse_flags

from pipeline.config import add_config_flags, config_from_namespace
from serving import stand_in, tf_serving
from serving.options import ServingOptions, add_serving_flags, options_from_namespace


def parse_flags(argv: Sequence[str]) -> argparse.Namespace:
    """Parses the command line, absl's own flags included.

    Args:
        argv: The full command line, program name first.

    Returns:
        The parsed flags.
    """
    parser = argparse_flags.ArgumentParser(
        prog='python -m serving',
        description="Serve the newest pushed model over TF Serving's REST API.",
    )
    add_config_flags(parser)
    add_serving_flags(parser)
    return parser.parse_args(argv[1:])


def choose_backend(options: ServingOptions, binary: str | None) -> str:
    """Decides which server runs.

    Args:
        options: Serving settings; `backend` may force a choice.
        binary: Path of `tensorflow_model_server`, or None when it is not installed.

    Returns:
        'tf-serving' or 'stand-in'.

    Raises:
        SystemExit: TF Serving was asked for but is not installed.
    """
    if options.backend == 'stand-in' or (options.backend == 'auto' and binary is None):
        return 'stand-in'
    if binary is None:
        raise SystemExit(
            f'--backend tf-serving needs {tf_serving.BINARY} on PATH; install it or use '
            '--backend stand-in'
        )
    return 'tf-serving'


def main(args: argparse.Namespace) -> None:
    """Serves until interrupted.

    Args:
        args: Flags from `parse_flags`.
    """
    config = config_from_namespace(args)
    options = options_from_namespace(args)
    binary = tf_serving.find_binary()
    if choose_backend(options, binary) == 'tf-serving':
        tf_serving.run(binary, config, options)
    else:
        stand_in.run(config, options)


if __name__ == '__main__':
    logging.set_verbosity(logging.INFO)
    app.run(main, flags_parser=parse_flags)
