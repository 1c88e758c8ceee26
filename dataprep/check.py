"""Pre-flight check of a data root, run before the pipeline so bad data fails fast and clearly.

Without it, a missing span or a malformed record surfaces minutes later as a stack trace deep in
ExampleGen, Transform or training. The check reads every record of one span: records are parsed
in batches by TensorFlow and checked with numpy; only a batch that fails is looked at record by
record, to name the exact record and feature in the message. A span that parses but cannot train
a classifier is refused too: one whose labels are all one digit, or whose rows mostly repeat
images already in the span.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
import time

import numpy as np
import tensorflow as tf
from absl import logging
from google.protobuf import message

from dataprep import example_format, spans
from dataprep.errors import DataError
from preprocessing.features import IMAGE_KEY, LABEL_KEY, NUM_CLASSES

# Records parsed per TensorFlow call: large enough to amortise the call, small enough for memory.
_BATCH_SIZE = 2048
# Largest share of a span's records that may repeat an image already in the span. The 1,797
# scikit-learn digits hold no repeated image; a span mostly of copies is a broken export.
MAX_DUPLICATE_FRACTION = 0.5
# A missing feature parses as an empty row here and is told apart from an empty list later.
_FEATURES = {
    IMAGE_KEY: tf.io.RaggedFeature(tf.int64),
    LABEL_KEY: tf.io.RaggedFeature(tf.int64),
}


@dataclasses.dataclass(frozen=True)
class DataRootReport:
    """What the check found in the span it read.

    Attributes:
        data_root: The data root that was checked.
        span: The span number that was read.
        files: The span's `*.tfrecord.gz` files, sorted.
        num_records: Number of records in all files.
        image_size: Side length of the square images in pixels.
        pixel_max: The largest pixel value in the span (16 for scikit-learn digits, 255 for
            MNIST).
        label_counts: Records per label present, in label order.
        num_duplicates: Records whose image repeats an earlier record's image.
    """

    data_root: str
    span: int
    files: list[str]
    num_records: int
    image_size: int
    pixel_max: int
    label_counts: dict[int, int]
    num_duplicates: int


def check_data_root(data_root: str, span: int | None = None) -> DataRootReport:
    """Checks that a span of the data root holds usable digit examples.

    Args:
        data_root: The data root folder (or URI) holding `span-<N>` folders.
        span: The span to check; None checks the latest, which is the one the pipeline reads.

    Returns:
        The span's files, record count, image size and label counts.

    Raises:
        DataError: The data root or span is missing or empty; a file is not a readable gzip
            TFRecord file; a record is not a tf.train.Example with an int64 `image` of a
            square number of non-negative pixels (the same number in every record) and an int64
            `label` of exactly one value in 0..9; every label is the same digit; or more than
            MAX_DUPLICATE_FRACTION of the records repeat an image already in the span.
    """
    start = time.monotonic()
    span, folder = _span_folder(data_root, span)
    files = _span_files(folder)

    tally = _Tally()
    for path in files:
        _check_file(path, tally)
    num_records = int(tally.counts.sum())
    if tally.num_pixels is None:
        raise DataError(
            f'{folder}: its {len(files)} {example_format.FILE_SUFFIX} files hold no records'
        )

    report = DataRootReport(
        data_root=data_root,
        span=span,
        files=files,
        num_records=num_records,
        image_size=math.isqrt(tally.num_pixels),
        pixel_max=tally.pixel_max,
        label_counts={label: int(count) for label, count in enumerate(tally.counts) if count},
        num_duplicates=num_records - len(tally.image_hashes),
    )
    _check_span_can_train(folder, report)
    logging.info(
        'Checked %s: %s records in %d file(s), %dx%d pixels, %d classes, in %.1f s',
        folder,
        f'{num_records:,}',
        len(files),
        report.image_size,
        report.image_size,
        len(report.label_counts),
        time.monotonic() - start,
    )
    return report


@dataclasses.dataclass
class _Tally:
    """What the batches of a span add up to while they are read."""

    num_pixels: int | None = None
    pixel_max: int = 0
    counts: np.ndarray = dataclasses.field(
        default_factory=lambda: np.zeros(NUM_CLASSES, dtype=np.int64)
    )
    image_hashes: set[int] = dataclasses.field(default_factory=set)


def _check_span_can_train(folder: str, report: DataRootReport) -> None:
    """Refuses a span of one digit, missing digits or mostly repeated images."""
    if len(report.label_counts) == 1:
        (label,) = report.label_counts
        raise DataError(
            f"{folder}, feature 'label': all {report.num_records:,} records are digit {label}; "
            'a span needs at least two digits to train and evaluate a classifier'
        )
    if report.num_duplicates > MAX_DUPLICATE_FRACTION * report.num_records:
        distinct = report.num_records - report.num_duplicates
        raise DataError(
            f"{folder}, feature 'image': {report.num_duplicates:,} of {report.num_records:,} "
            f'records ({report.num_duplicates / report.num_records:.0%}) repeat an image already '
            f'in the span, only {distinct:,} distinct; at most {MAX_DUPLICATE_FRACTION:.0%} may '
            'repeat, so re-export the span without copies'
        )
    missing = [str(label) for label in range(NUM_CLASSES) if label not in report.label_counts]
    if missing:
        # Evaluation reads this span too: a model that never saw these digits would be judged
        # only on the ones it knows, and could be blessed and served.
        raise DataError(
            f"{folder}, feature 'label': no examples of digit(s) {', '.join(missing)} among "
            f'{report.num_records:,} records; a span must hold every digit so the model is '
            'trained and judged on all of them'
        )
    if report.num_duplicates:
        logging.warning(
            '%s: %d of %s records repeat an image already in the span; they weigh double in '
            'training and may sit in both train and eval',
            folder,
            report.num_duplicates,
            f'{report.num_records:,}',
        )


def _import_hint(data_root: str) -> str:
    """How to fill a data root: every importer, not only the default digits."""
    return (
        f'import data with `python -m dataprep {{digits,idx,csv,images}} ... --data-root '
        f'{data_root}` (`digits` writes the scikit-learn digits)'
    )


def _span_folder(data_root: str, span: int | None) -> tuple[int, str]:
    """Finds the requested span, or the latest when span is None: its number and folder."""
    if not tf.io.gfile.isdir(data_root):
        raise DataError(
            f'data root missing: {data_root} is not a folder; {_import_hint(data_root)}'
        )
    present = spans.list_spans(data_root)
    if not present:
        raise DataError(
            f'empty data root: {data_root} has no {spans.SPAN_PREFIX}<N> folders; '
            f'{_import_hint(data_root)}'
        )
    if span is None:
        span = present[-1]
    folder = spans.span_dir(data_root, span)
    if span not in present:
        raise DataError(
            f'{folder}: no such span; {data_root} holds span(s) '
            + ', '.join(str(number) for number in present)
        )
    return span, folder


def _span_files(folder: str) -> list[str]:
    """Lists the span's record files and warns about other files, which the pipeline skips."""
    files = sorted(tf.io.gfile.glob(os.path.join(folder, '*' + example_format.FILE_SUFFIX)))
    if not files:
        raise DataError(f'{folder}: no *{example_format.FILE_SUFFIX} files')
    others = sorted(
        name
        for name in tf.io.gfile.listdir(folder)
        if not name.endswith(example_format.FILE_SUFFIX)
    )
    if others:
        logging.warning(
            '%s holds %d file(s) the pipeline ignores (%s): it reads only *%s files, so '
            'convert or move them',
            folder,
            len(others),
            ', '.join(others),
            example_format.FILE_SUFFIX,
        )
    return files


def _check_file(path: str, tally: _Tally) -> None:
    """Checks every record of one file and adds its records to the tally."""
    dataset = tf.data.TFRecordDataset(path, compression_type=example_format.COMPRESSION)
    offset = 0
    try:
        for batch in dataset.batch(_BATCH_SIZE):
            _check_batch(path, offset, batch.numpy(), tally)
            offset += int(batch.shape[0])
    except tf.errors.OpError as error:
        raise DataError(
            f'{path}: not a readable gzip-compressed TFRecord file ({_reason(error)})'
        ) from None


def _check_batch(path: str, offset: int, records: np.ndarray, tally: _Tally) -> None:
    """Checks a batch of serialized records whose first one has index offset in the file."""
    num_pixels = tally.num_pixels
    try:
        parsed = tf.io.parse_example(records, _FEATURES)
    except (tf.errors.InvalidArgumentError, UnicodeDecodeError) as error:
        # TensorFlow's message does not say which record failed, so each is parsed on its own.
        reason = _reason(error) if isinstance(error, tf.errors.OpError) else 'undecodable bytes'
        raise _first_bad_record(path, offset, records, num_pixels, reason) from None

    image_lengths = parsed[IMAGE_KEY].row_lengths().numpy()
    label_lengths = parsed[LABEL_KEY].row_lengths().numpy()
    if num_pixels is None:
        num_pixels = int(image_lengths[0])
        if not _is_square(num_pixels):
            raise _describe(path, offset, records[0], num_pixels)
    bad = (image_lengths != num_pixels) | (label_lengths != 1)
    if bad.any():
        index = int(np.argmax(bad))
        raise _describe(path, offset + index, records[index], num_pixels)

    pixels = parsed[IMAGE_KEY].flat_values.numpy().reshape(-1, num_pixels)
    labels = parsed[LABEL_KEY].flat_values.numpy()
    bad = (labels < 0) | (labels >= NUM_CLASSES) | (pixels.min(axis=1) < 0)
    if bad.any():
        index = int(np.argmax(bad))
        raise _describe(path, offset + index, records[index], num_pixels)

    tally.num_pixels = num_pixels
    tally.pixel_max = max(tally.pixel_max, int(pixels.max()))
    tally.counts += np.bincount(labels, minlength=NUM_CLASSES)
    tally.image_hashes.update(hash(row.tobytes()) for row in pixels)


def _first_bad_record(
    path: str, offset: int, records: np.ndarray, num_pixels: int | None, reason: str
) -> DataError:
    """Finds the record of a batch TensorFlow could not parse and describes its problem."""
    for index, record in enumerate(records):
        error = _record_error(path, offset + index, record, num_pixels)
        if error:
            return error
    last = offset + len(records) - 1
    return DataError(
        f'{path} records {offset}..{last} (0-based): cannot be parsed as tf.train.Example '
        f'({reason})'
    )


def _describe(path: str, index: int, record: bytes, num_pixels: int) -> DataError:
    """Builds the error for a record the batch checks flagged."""
    return _record_error(path, index, record, num_pixels) or DataError(
        f'{path} record {index} (0-based): does not hold a usable digit example'
    )


def _record_error(path: str, index: int, record: bytes, num_pixels: int | None) -> DataError | None:
    """Checks one serialized record on its own; None if it is a usable digit example."""
    found = _record_problem(record, num_pixels)
    if found is None:
        return None
    feature, problem = found
    where = f'{path} record {index} (0-based)'
    if feature:
        where += f", feature '{feature}'"
    return DataError(f'{where}: {problem}')


def _record_problem(record: bytes, num_pixels: int | None) -> tuple[str, str] | None:
    """Returns the feature ('' for the whole record) and the problem of a record, or None."""
    try:
        features = tf.train.Example.FromString(record).features.feature
    except message.DecodeError:
        return '', 'not a serialized tf.train.Example'

    for key in (IMAGE_KEY, LABEL_KEY):
        if key not in features:
            return key, 'missing'
        kind = features[key].WhichOneof('kind')
        if kind != 'int64_list':
            return key, f'holds {kind or "no value list"}; expected an int64 list'

    pixels = np.array(features[IMAGE_KEY].int64_list.value, dtype=np.int64)
    if num_pixels is not None and pixels.size != num_pixels:
        return IMAGE_KEY, (
            f'{pixels.size} pixel values; expected {num_pixels} like the first record of the span'
        )
    if not _is_square(pixels.size):
        return IMAGE_KEY, f'{pixels.size} pixel values do not make a square image'
    if pixels.min() < 0:
        pixel = int(np.argmin(pixels))
        return IMAGE_KEY, f'pixel {pixel} is negative ({pixels[pixel]})'

    labels = features[LABEL_KEY].int64_list.value
    if len(labels) != 1:
        return LABEL_KEY, f'{len(labels)} values; expected exactly one'
    if not 0 <= labels[0] < NUM_CLASSES:
        return LABEL_KEY, f'{labels[0]} is outside 0..{NUM_CLASSES - 1}'
    return None


def _is_square(number: int) -> bool:
    return number > 0 and math.isqrt(number) ** 2 == number


def _reason(error: tf.errors.OpError) -> str:
    """Strips TensorFlow's op and function decorations from an error message."""
    text = re.sub(r'\{\{.*?\}\}\s*', '', error.message)
    return text.split(' [Op:')[0].strip()
