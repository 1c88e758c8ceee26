"""The `python -m dataprep` commands: import digits into a data root as a new span, or check it.

    python -m dataprep digits --data-root DIR [--span N]
    python -m dataprep idx --images FILE --labels FILE --data-root DIR [--span N]
    python -m dataprep csv --csv FILE --data-root DIR [--span N]
    python -m dataprep check --data-root DIR [--span N]

Problems with the data end the command with `error: <message>` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from absl import logging

from dataprep import check, csv_digits, idx, sklearn_digits, spans
from dataprep.digit_set import DigitSet
from dataprep.errors import DataError

DATA_ERROR_EXIT_CODE = 2


def build_parser() -> argparse.ArgumentParser:
    """Builds the parser of the four commands.

    Returns:
        A parser whose result has `command`, `data_root`, `span` and the command's own inputs.
    """
    parser = argparse.ArgumentParser(
        prog='python -m dataprep',
        description='Import handwritten digits into a data root as a new span, or check one.',
    )
    commands = parser.add_subparsers(dest='command', required=True)

    commands.add_parser('digits', help="scikit-learn's 1,797 8x8 digits (no download)")
    images = commands.add_parser('idx', help='an MNIST pair of IDX files, gzipped or not')
    images.add_argument('--images', required=True, help='images file, e.g. train-images-idx3-ubyte')
    images.add_argument('--labels', required=True, help='labels file, e.g. train-labels-idx1-ubyte')
    table = commands.add_parser('csv', help='a CSV file of label,pixel0,...,pixelN lines')
    table.add_argument('--csv', required=True, help='the CSV file, with or without a header row')
    commands.add_parser('check', help='check a span before running the pipeline')

    for command in commands.choices.values():
        command.add_argument('--data-root', required=True, help='folder of the span-<N> folders')
        command.add_argument(
            '--span',
            type=_span_number,
            default=None,
            help='span number; default: the next free one (import) or the latest one (check)',
        )
    return parser


def run(args: argparse.Namespace) -> int:
    """Runs the parsed command.

    Args:
        args: The result of `build_parser().parse_args`.

    Returns:
        The exit status: 0 on success, 2 when the data has a problem (reported on stderr).
    """
    try:
        if args.command == 'check':
            report = check.check_data_root(args.data_root, args.span)
            counts = ', '.join(
                f'{label}: {count:,}' for label, count in report.label_counts.items()
            )
            logging.info('Span %d is ready; records per label: %s', report.span, counts)
            return 0
        spans.write_span(_load(args), args.data_root, args.span)
    except DataError as error:
        sys.stderr.write(f'error: {error}\n')
        return DATA_ERROR_EXIT_CODE
    return 0


def _load(args: argparse.Namespace) -> DigitSet:
    """Reads the digits an import command names."""
    if args.command == 'digits':
        return sklearn_digits.load_sklearn_digits()
    if args.command == 'idx':
        return idx.read_idx_pair(args.images, args.labels)
    return csv_digits.read_csv(args.csv)


def _span_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f'expected a span number 0 or more, got {text!r}')
    return int(text)
