"""The `python -m dataprep` commands: import digits into a data root as new spans, or check one.

    python -m dataprep digits --data-root DIR [--span N | --spans COUNT]
    python -m dataprep idx --images FILE --labels FILE --data-root DIR [--span N | --spans COUNT]
    python -m dataprep csv --csv FILE --data-root DIR [--span N | --spans COUNT]
    python -m dataprep images --folder DIR --data-root DIR [--image-size S --pixel-max M]
    python -m dataprep check --data-root DIR [--span N]

`--spans COUNT` splits the import into COUNT consecutive spans, to simulate data arriving over
time; `--shuffle-labels FRACTION` writes a deliberately degraded copy. Problems with the data end
the command with `error: <message>` on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import sys

from absl import logging

from dataprep import check, csv_digits, degrade, idx, image_folder, sklearn_digits, spans
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
    pictures = commands.add_parser('images', help='a folder of pictures, <folder>/<digit>/*.png')
    pictures.add_argument('--folder', required=True, help='holds one sub-folder per digit, 0-9')
    pictures.add_argument(
        '--image-size', type=int, default=None, help='default: that of the newest span'
    )
    pictures.add_argument(
        '--pixel-max', type=int, default=None, help="default: the newest span's largest pixel"
    )
    commands.add_parser('check', help='check a span before running the pipeline')

    for name, command in commands.choices.items():
        command.add_argument('--data-root', required=True, help='folder of the span-<N> folders')
        command.add_argument(
            '--span',
            type=_span_number,
            default=None,
            help='span number; default: the next free one (import) or the latest one (check)',
        )
        if name == 'check':
            continue
        command.add_argument(
            '--spans', type=int, default=1, help='split the import into this many new spans'
        )
        command.add_argument(
            '--shuffle-labels',
            type=float,
            default=0.0,
            metavar='FRACTION',
            help='shuffle the labels of this share of the rows (a degraded span), e.g. 0.33',
        )
        command.add_argument('--seed', type=int, default=0, help='seed of --shuffle-labels')
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
        digits = _load(args)
        if args.shuffle_labels:
            digits = degrade.shuffle_labels(digits, args.shuffle_labels, args.seed)
        if args.spans == 1:
            spans.write_span(digits, args.data_root, args.span)
        elif args.span is not None:
            raise DataError('--span names one span; leave it out to write several with --spans')
        else:
            spans.write_spans(digits, args.data_root, args.spans)
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
    if args.command == 'images':
        image_size, pixel_max = _image_form(args)
        return image_folder.read_image_folder(args.folder, image_size, pixel_max)
    return csv_digits.read_csv(args.csv)


def _image_form(args: argparse.Namespace) -> tuple[int, int]:
    """The image size and largest pixel value pictures are brought to: flags, else newest span."""
    for flag, value in (('--image-size', args.image_size), ('--pixel-max', args.pixel_max)):
        if value is not None and value < 1:
            raise DataError(f'{flag} must be at least 1, got {value}')
    if args.image_size is not None and args.pixel_max is not None:
        return args.image_size, args.pixel_max
    if not spans.list_spans(args.data_root):
        raise DataError(
            f'{args.data_root} has no span to take the image size and pixel range from; '
            'give --image-size and --pixel-max (8 and 16 like the digits, 28 and 255 like MNIST)'
        )
    report = check.check_data_root(args.data_root)
    return (
        report.image_size if args.image_size is None else args.image_size,
        report.pixel_max if args.pixel_max is None else args.pixel_max,
    )


def _span_number(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f'expected a span number 0 or more, got {text!r}')
    return int(text)
