"""Numbered spans in the data root: naming, listing and writing them.

The pipeline's ExampleGen reads `<data_root>/span-<N>/`, always the highest N, so adding data
means writing a new span. A span is written into a hidden folder first and renamed into place, so
a half-written span is never visible to a pipeline run; an existing span is never overwritten.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
import time

import tensorflow as tf
from absl import logging

from dataprep import example_format
from dataprep.digit_set import DigitSet
from dataprep.errors import DataError

SPAN_PREFIX = 'span-'
FILE_NAME = 'digits' + example_format.FILE_SUFFIX

# Only canonical numbers (no leading zeros), so every span has exactly one folder name.
_SPAN_NAME = re.compile(SPAN_PREFIX + r'([0-9]+)')
# rwxr-xr-x: tempfile creates private folders, but a span must be readable by pipeline workers.
_SPAN_MODE = 0o755


@dataclasses.dataclass(frozen=True)
class SpanInfo:
    """What `write_span` wrote.

    Attributes:
        path: The span folder.
        span: The span number.
        count: Number of examples written.
        image_size: Side length of the square images in pixels.
        label_counts: Examples per label, in label order.
        seconds: Wall time the write took.
    """

    path: str
    span: int
    count: int
    image_size: int
    label_counts: dict[int, int]
    seconds: float


def span_dir(data_root: str, span: int) -> str:
    """Gives the folder of a span.

    Args:
        data_root: The data root folder (or URI).
        span: The span number, 0 or more.

    Returns:
        The path `<data_root>/span-<span>`.

    Raises:
        ValueError: The span number is negative.
    """
    if span < 0:
        raise ValueError(f'span numbers are 0 or more, got {span}')
    return os.path.join(data_root, f'{SPAN_PREFIX}{span}')


def list_spans(data_root: str) -> list[int]:
    """Lists the spans present in a data root.

    Args:
        data_root: The data root folder (or URI); it need not exist.

    Returns:
        The numbers of the `span-<N>` folders, ascending; empty if there are none or the data
        root does not exist. Files, hidden folders and other names are ignored.

    Raises:
        DataError: A span folder's number has leading zeros: TFX's ExampleGen would read
            `span-011` as span 11 and then look for a folder `span-11`.
    """
    if not tf.io.gfile.isdir(data_root):
        return []
    spans = []
    for name in tf.io.gfile.listdir(data_root):
        match = _SPAN_NAME.fullmatch(name.rstrip('/'))
        if not match or not tf.io.gfile.isdir(os.path.join(data_root, name)):
            continue
        number = int(match.group(1))
        if match.group(1) != str(number):
            raise DataError(
                f'{os.path.join(data_root, name.rstrip("/"))}: span folder names have no leading '
                f'zeros; rename it to {SPAN_PREFIX}{number} (TFX reads it as span {number})'
            )
        spans.append(number)
    return sorted(spans)


def next_span(data_root: str) -> int:
    """Gives the number the next span should get.

    Args:
        data_root: The data root folder (or URI); it need not exist.

    Returns:
        One more than the highest span present, or 1 for a data root without spans.
    """
    spans = list_spans(data_root)
    return spans[-1] + 1 if spans else 1


def write_span(digits: DigitSet, data_root: str, span: int | None = None) -> SpanInfo:
    """Writes digits as a new span of gzipped tf.train.Examples.

    The examples go to `<data_root>/span-<N>/digits.tfrecord.gz`. They are written into a hidden
    temporary folder inside the data root, then renamed into place in one step.

    Args:
        digits: The images and labels to write.
        data_root: A local data root folder; created if missing.
        span: The span number, or None for the next one after the highest present.

    Returns:
        Where and what was written.

    Raises:
        DataError: The span already exists.
    """
    start = time.monotonic()
    os.makedirs(data_root, exist_ok=True)
    if span is None:
        span = next_span(data_root)
    target = span_dir(data_root, span)
    if os.path.exists(target):
        raise DataError(
            f'{target} already exists and spans are never overwritten; write span '
            f'{next_span(data_root)} instead, or remove the folder first'
        )

    temp_dir = tempfile.mkdtemp(prefix=f'.{SPAN_PREFIX}{span}-', suffix='.tmp', dir=data_root)
    try:
        options = tf.io.TFRecordOptions(compression_type=example_format.COMPRESSION)
        with tf.io.TFRecordWriter(os.path.join(temp_dir, FILE_NAME), options) as writer:
            for record in example_format.serialize_examples(digits):
                writer.write(record)
        os.chmod(temp_dir, _SPAN_MODE)
        os.rename(temp_dir, target)
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise

    info = SpanInfo(
        path=target,
        span=span,
        count=digits.num_examples,
        image_size=digits.image_size,
        label_counts=digits.label_counts(),
        seconds=time.monotonic() - start,
    )
    logging.info(
        'Wrote %s examples (%dx%d pixels, %d classes) to %s in %.1f s',
        f'{info.count:,}',
        info.image_size,
        info.image_size,
        len(info.label_counts),
        info.path,
        info.seconds,
    )
    return info


def write_spans(digits: DigitSet, data_root: str, count: int) -> list[SpanInfo]:
    """Splits digits into consecutive parts of nearly equal size and writes each as a new span.

    Consecutive parts keep the order of the source, as data arriving over time would: the first
    part becomes the next free span, the second the one after it, and so on.

    Args:
        digits: The images and labels to write.
        data_root: A local data root folder; created if missing.
        count: How many spans to write, 1 or more and at most one per example.

    Returns:
        What was written, one entry per span, oldest first.

    Raises:
        DataError: count is below 1 or above the number of examples.
    """
    if not 1 <= count <= digits.num_examples:
        raise DataError(
            f'cannot split {digits.num_examples:,} examples of {digits.source} into {count} spans'
        )
    bounds = [round(part * digits.num_examples / count) for part in range(count + 1)]
    return [
        write_span(
            DigitSet(
                images=digits.images[start:end],
                labels=digits.labels[start:end],
                source=f'{digits.source}, part {part + 1} of {count}',
            ),
            data_root,
        )
        for part, (start, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True))
    ]
