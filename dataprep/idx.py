"""Reads and writes MNIST's IDX files, the format `train-images-idx3-ubyte` and friends use.

An IDX file is a 4-byte big-endian magic number (two zero bytes, a type code, the number of
dimensions), one big-endian uint32 per dimension, then the items as raw bytes. MNIST uses
unsigned bytes: 3-D for images (count, rows, columns) and 1-D for labels. Files may be gzipped;
gzip is recognised by its magic bytes, since downloaded copies are often renamed or unpacked.
"""

from __future__ import annotations

import gzip
import math
import struct
import time
import zlib

import numpy as np
from absl import logging

from dataprep.digit_set import DigitSet
from dataprep.errors import DataError
from preprocessing.features import NUM_CLASSES

IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801

_GZIP_MAGIC = b'\x1f\x8b'
_UBYTE_MAX = 255
_KINDS = {
    IMAGES_MAGIC: 'IDX unsigned-byte 3-D images',
    LABELS_MAGIC: 'IDX unsigned-byte 1-D labels',
}


def read_idx_pair(images_path: str, labels_path: str) -> DigitSet:
    """Reads an MNIST images file and its labels file.

    Args:
        images_path: IDX file of unsigned-byte images (magic 0x00000803), gzipped or not.
        labels_path: IDX file of unsigned-byte labels (magic 0x00000801), gzipped or not.

    Returns:
        The images (pixel values 0..255) and labels as a DigitSet whose source is images_path.

    Raises:
        DataError: A file is missing, empty, corrupt, not the expected IDX kind, truncated or
            followed by trailing bytes; the counts disagree; images are not square; or a label is
            outside 0..9.
    """
    start = time.monotonic()
    images = _read_idx(images_path, IMAGES_MAGIC)
    labels = _read_idx(labels_path, LABELS_MAGIC)

    rows, columns = images.shape[1:]
    if rows != columns:
        raise DataError(
            f'{images_path}: images are {rows}x{columns} pixels; only square images are supported'
        )
    if images.shape[0] != labels.shape[0]:
        raise DataError(
            f'{images_path} holds {images.shape[0]:,} images but {labels_path} holds '
            f'{labels.shape[0]:,} labels; the counts must agree'
        )
    bad = np.flatnonzero(labels >= NUM_CLASSES)
    if bad.size:
        raise DataError(
            f'{labels_path} item {bad[0]} (0-based): label {labels[bad[0]]} is outside '
            f'0..{NUM_CLASSES - 1}'
        )

    digits = DigitSet(
        images=images.astype(np.int64), labels=labels.astype(np.int64), source=images_path
    )
    logging.info(
        'Read %s images of %dx%d pixels from %s and %s in %.1f s',
        f'{digits.num_examples:,}',
        rows,
        columns,
        images_path,
        labels_path,
        time.monotonic() - start,
    )
    return digits


def write_idx_pair(digits: DigitSet, images_path: str, labels_path: str) -> None:
    """Writes digits as an MNIST-style pair of IDX files, gzipped when a name ends in `.gz`.

    Args:
        digits: The images and labels; pixel values must fit an unsigned byte (0..255).
        images_path: Where to write the images file.
        labels_path: Where to write the labels file.

    Raises:
        DataError: A pixel value is above 255.
    """
    largest = int(digits.images.max())
    if largest > _UBYTE_MAX:
        raise DataError(
            f'{digits.source}: pixel value {largest} does not fit IDX unsigned bytes (0..255)'
        )
    _write_idx(images_path, IMAGES_MAGIC, digits.images.astype(np.uint8))
    _write_idx(labels_path, LABELS_MAGIC, digits.labels.astype(np.uint8))


def _read_idx(path: str, magic: int) -> np.ndarray:
    """Reads one IDX file of the given magic number and returns its items as uint8."""
    data = _read_bytes(path)
    kind = _KINDS[magic]
    if not data:
        raise DataError(f'{path}: empty file; expected {kind}')
    if len(data) < 4:
        raise DataError(f'{path}: truncated header: {len(data)} bytes; expected {kind}')

    found = int.from_bytes(data[:4], 'big')
    if found != magic:
        hint = ''
        if found in _KINDS:
            hint = f'; this is a file of {_KINDS[found]}: are images and labels swapped?'
        raise DataError(
            f'{path}: bad IDX magic number 0x{found:08X}; expected 0x{magic:08X} ({kind}){hint}'
        )

    num_dims = magic & 0xFF
    header_size = 4 + 4 * num_dims
    if len(data) < header_size:
        raise DataError(
            f'{path}: truncated header: {num_dims} dimensions need {header_size} bytes, '
            f'the file has {len(data)}'
        )
    dims = struct.unpack(f'>{num_dims}I', data[4:header_size])
    shape_text = ' x '.join(f'{dim:,}' for dim in dims)
    expected = math.prod(dims)
    payload = len(data) - header_size
    if payload < expected:
        raise DataError(
            f'{path}: truncated: the header promises {shape_text} = {expected:,} bytes of items, '
            f'the file holds {payload:,}'
        )
    if payload > expected:
        raise DataError(
            f'{path}: {payload - expected:,} trailing bytes after the {expected:,} bytes of '
            f'items ({shape_text}) the header promises'
        )
    if expected == 0:
        raise DataError(f'{path}: no items: the header gives the shape {shape_text}')
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims)


def _read_bytes(path: str) -> bytes:
    """Returns the file's bytes, decompressed when they start with the gzip magic."""
    try:
        with open(path, 'rb') as file:
            data = file.read()
    except OSError as error:
        raise DataError(f'{path}: cannot read: {error.strerror}') from error
    if data[:2] != _GZIP_MAGIC:
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f'{path}: corrupt gzip data: {error}') from error


def _write_idx(path: str, magic: int, items: np.ndarray) -> None:
    header = struct.pack(f'>I{items.ndim}I', magic, *items.shape)
    data = header + items.tobytes()
    if path.endswith('.gz'):
        data = gzip.compress(data, mtime=0)
    with open(path, 'wb') as file:
        file.write(data)
