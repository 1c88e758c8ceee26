import gzip
import os
import struct

import numpy as np
import pytest

from dataprep.digit_set import DigitSet
from dataprep.errors import DataError
from dataprep.idx import read_idx_pair, write_idx_pair
from tests.dataprep.conftest import assert_same_digits


def _pair(tmp_path, digits, suffix=''):
    images = str(tmp_path / f'train-images-idx3-ubyte{suffix}')
    labels = str(tmp_path / f'train-labels-idx1-ubyte{suffix}')
    write_idx_pair(digits, images, labels)
    return images, labels


def _write_raw(path, magic, shape, payload):
    with open(path, 'wb') as file:
        file.write(struct.pack(f'>I{len(shape)}I', magic, *shape) + payload)


def test_idx_pair_reads_back_the_digits_it_was_written_from(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)

    digits = read_idx_pair(images, labels)

    assert_same_digits(digits, small_digits)
    assert digits.source == images
    assert os.path.getsize(images) == 16 + 50 * 64
    assert os.path.getsize(labels) == 8 + 50


def test_gzipped_idx_is_recognised_by_its_magic_bytes_not_its_name(tmp_path, small_digits):
    gz_images, gz_labels = _pair(tmp_path, small_digits, suffix='.gz')
    with open(gz_images, 'rb') as file:
        assert file.read(2) == b'\x1f\x8b'
    images, labels = str(tmp_path / 'images.idx'), str(tmp_path / 'labels.idx')
    os.rename(gz_images, images)
    os.rename(gz_labels, labels)

    assert_same_digits(read_idx_pair(images, labels), small_digits)


def test_idx_with_bad_magic_names_the_file_and_both_numbers(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    _write_raw(images, 0x00000D03, (50, 8, 8), bytes(50 * 64))

    with pytest.raises(DataError) as error:
        read_idx_pair(images, labels)

    message = str(error.value)
    assert message.startswith(f'{images}: bad IDX magic number 0x00000D03; expected 0x00000803')


def test_idx_files_given_in_swapped_order_say_so(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)

    with pytest.raises(DataError, match='are images and labels swapped') as error:
        read_idx_pair(labels, images)

    assert str(error.value).startswith(f'{labels}: bad IDX magic number 0x00000801')


def test_truncated_idx_payload_names_the_file_and_the_byte_counts(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    with open(images, 'rb') as file:
        data = file.read()
    with open(images, 'wb') as file:
        file.write(data[:-10])

    with pytest.raises(DataError) as error:
        read_idx_pair(images, labels)

    assert str(error.value) == (
        f'{images}: truncated: the header promises 50 x 8 x 8 = 3,200 bytes of items, '
        'the file holds 3,190'
    )


def test_truncated_gzip_idx_is_reported_as_corrupt_gzip(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits, suffix='.gz')
    with open(labels, 'rb') as file:
        data = file.read()
    with open(labels, 'wb') as file:
        file.write(data[: len(data) // 2])

    with pytest.raises(DataError, match='corrupt gzip data') as error:
        read_idx_pair(images, labels)

    assert str(error.value).startswith(f'{labels}: ')


def test_trailing_bytes_after_idx_items_are_an_error(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    with open(labels, 'ab') as file:
        file.write(b'\x00\x01\x02')

    with pytest.raises(DataError, match='3 trailing bytes after the 50 bytes of items') as error:
        read_idx_pair(images, labels)

    assert str(error.value).startswith(f'{labels}: ')


def test_idx_count_mismatch_names_both_files_and_counts(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    _write_raw(labels, 0x00000801, (49,), small_digits.labels[:49].astype(np.uint8).tobytes())

    with pytest.raises(DataError) as error:
        read_idx_pair(images, labels)

    assert str(error.value) == (
        f'{images} holds 50 images but {labels} holds 49 labels; the counts must agree'
    )


def test_idx_label_10_names_the_labels_file_and_item_index(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    bad = small_digits.labels.astype(np.uint8)
    bad[7] = 10
    _write_raw(labels, 0x00000801, (50,), bad.tobytes())

    with pytest.raises(DataError) as error:
        read_idx_pair(images, labels)

    assert str(error.value) == f'{labels} item 7 (0-based): label 10 is outside 0..9'


def test_non_square_idx_images_are_refused(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    _write_raw(images, 0x00000803, (50, 4, 16), bytes(50 * 64))

    with pytest.raises(DataError) as error:
        read_idx_pair(images, labels)

    assert str(error.value) == (
        f'{images}: images are 4x16 pixels; only square images are supported'
    )


def test_empty_idx_file_is_an_error(tmp_path, small_digits):
    images, labels = _pair(tmp_path, small_digits)
    open(images, 'wb').close()

    with pytest.raises(DataError) as error:
        read_idx_pair(images, labels)

    assert str(error.value) == f'{images}: empty file; expected IDX unsigned-byte 3-D images'


def test_missing_idx_file_is_a_data_error(tmp_path, small_digits):
    images, _ = _pair(tmp_path, small_digits)
    missing = str(tmp_path / 'nowhere-idx1-ubyte')

    with pytest.raises(DataError, match='cannot read: No such file or directory') as error:
        read_idx_pair(images, missing)

    assert str(error.value).startswith(missing)


def test_writing_pixels_above_255_to_idx_is_refused(tmp_path):
    digits = DigitSet(images=np.full((1, 2, 2), 256), labels=np.array([3]), source='wide')

    with pytest.raises(DataError, match='pixel value 256 does not fit'):
        write_idx_pair(digits, str(tmp_path / 'i'), str(tmp_path / 'l'))


def test_idx_written_with_gz_name_is_a_valid_gzip_of_the_plain_file(tmp_path, small_digits):
    plain_images, _ = _pair(tmp_path, small_digits)
    gz_images, _ = _pair(tmp_path, small_digits, suffix='.gz')

    with open(plain_images, 'rb') as plain, gzip.open(gz_images, 'rb') as packed:
        assert packed.read() == plain.read()
