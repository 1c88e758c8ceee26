"""Reads and writes digits in the common MNIST CSV layout: one image per line, label first.

Each line is `label,pixel0,pixel1,...` with the pixels of a square image in row-major order.
Files with and without a header row are both common; a header is recognised by a first field
that is not an integer. Errors name the 1-based line and, where it helps, the 1-based column.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
from absl import logging

from dataprep.digit_set import DigitSet
from dataprep.errors import DataError
from preprocessing.features import NUM_CLASSES

_LAYOUT_TEXT = 'lines of label,pixel0,...,pixelN'


@dataclasses.dataclass(frozen=True)
class _Layout:
    """The columns of a file, decided by its first non-blank line."""

    num_pixels: int
    header: list[str] | None

    def column_name(self, index: int) -> str:
        """Describes the 0-based field index as a 1-based column for messages."""
        if self.header is not None:
            return f'column {index + 1} ({self.header[index]!r})'
        if index == 0:
            return 'column 1 (label)'
        return f'column {index + 1} (pixel {index - 1})'


def read_csv(path: str) -> DigitSet:
    """Reads a CSV file of `label,pixel0,...,pixelN` lines, with or without a header row.

    Blank lines are skipped. The number of pixels per line must be the same on every line and a
    perfect square; it comes from the header when there is one, else from the first line.

    Args:
        path: The CSV file.

    Returns:
        The images, with pixel values as in the file, and labels as a DigitSet whose source is
        path.

    Raises:
        DataError: The file is missing, empty or not UTF-8 text; a line has the wrong number of
            values, a value that is not an integer, a label outside 0..9 or a negative pixel; or
            the pixel count is not a perfect square.
    """
    start = time.monotonic()
    layout, rows, line_numbers = _read_rows(path)
    table = np.stack(rows)
    labels, pixels = table[:, 0], table[:, 1:]

    bad_labels = np.flatnonzero((labels < 0) | (labels >= NUM_CLASSES))
    if bad_labels.size:
        row = bad_labels[0]
        raise DataError(
            f'{path} line {line_numbers[row]}, {layout.column_name(0)}: label {labels[row]} '
            f'is outside 0..{NUM_CLASSES - 1}'
        )
    negative = np.argwhere(pixels < 0)
    if negative.size:
        row, pixel = negative[0]
        raise DataError(
            f'{path} line {line_numbers[row]}, {layout.column_name(pixel + 1)}: pixel value '
            f'{pixels[row, pixel]} is negative'
        )

    size = math.isqrt(layout.num_pixels)
    digits = DigitSet(images=pixels.reshape(-1, size, size), labels=labels, source=path)
    logging.info(
        'Read %s images of %dx%d pixels from %s (%s) in %.1f s',
        f'{digits.num_examples:,}',
        size,
        size,
        path,
        'with a header row' if layout.header is not None else 'no header row',
        time.monotonic() - start,
    )
    return digits


def write_csv(digits: DigitSet, path: str, header: bool = True) -> None:
    """Writes digits as CSV lines of `label,pixel0,...,pixelN`.

    Args:
        digits: The images and labels to write.
        path: Where to write the file.
        header: Whether to start with the row `label,pixel0,...,pixelN`.
    """
    pixels = digits.images.reshape(digits.num_examples, -1)
    with open(path, 'w', encoding='utf-8', newline='') as file:
        if header:
            names = ['label'] + [f'pixel{index}' for index in range(digits.num_pixels)]
            file.write(','.join(names) + '\n')
        for label, row in zip(digits.labels.tolist(), pixels.tolist(), strict=True):
            file.write(f'{label},' + ','.join(map(str, row)) + '\n')


def _read_rows(path: str) -> tuple[_Layout, list[np.ndarray], list[int]]:
    """Parses the data lines into int64 rows and remembers the line number of each."""
    layout = None
    rows = []
    line_numbers = []
    try:
        with open(path, encoding='utf-8-sig') as file:
            for number, line in enumerate(file, start=1):
                if not line.strip():
                    continue
                fields = [field.strip() for field in line.split(',')]
                if layout is None:
                    layout = _layout(path, number, fields)
                    if layout.header is not None:
                        continue
                rows.append(_parse_line(path, number, fields, layout))
                line_numbers.append(number)
    except OSError as error:
        raise DataError(f'{path}: cannot read: {error.strerror}') from error
    except UnicodeDecodeError as error:
        raise DataError(f'{path}: not UTF-8 text ({error.reason} at byte {error.start})') from error

    if layout is None:
        raise DataError(f'{path}: empty file; expected {_LAYOUT_TEXT}')
    if not rows:
        raise DataError(f'{path}: a header row but no data lines; expected {_LAYOUT_TEXT}')
    return layout, rows, line_numbers


def _layout(path: str, number: int, fields: list[str]) -> _Layout:
    """Decides from the first non-blank line whether there is a header and how many pixels."""
    header = None if _is_integer(fields[0]) else fields
    num_pixels = len(fields) - 1
    if num_pixels == 0:
        raise DataError(f'{path} line {number}: no pixel values after the label')
    size = math.isqrt(num_pixels)
    if size * size != num_pixels:
        raise DataError(
            f'{path} line {number}: {num_pixels} pixel columns after the label do not make a '
            f'square image ({size}x{size} would be {size * size})'
        )
    return _Layout(num_pixels=num_pixels, header=header)


def _parse_line(path: str, number: int, fields: list[str], layout: _Layout) -> np.ndarray:
    found = len(fields) - 1
    if found != layout.num_pixels:
        raise DataError(
            f'{path} line {number}: expected {layout.num_pixels} pixel values after the label, '
            f'found {found}'
        )
    try:
        return np.array(fields, dtype=np.int64)
    except (ValueError, OverflowError):
        index = next(index for index, field in enumerate(fields) if not _is_integer(field))
        raise DataError(
            f'{path} line {number}, {layout.column_name(index)}: {fields[index]!r} is not an '
            'integer'
        ) from None


def _is_integer(text: str) -> bool:
    try:
        np.array([text], dtype=np.int64)
    except (ValueError, OverflowError):
        return False
    return True
