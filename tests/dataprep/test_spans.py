import os
import stat

import pytest
import tensorflow as tf

from dataprep import example_format, spans
from dataprep.errors import DataError
from dataprep.spans import list_spans, next_span, span_dir, write_span


def _read_examples(path):
    dataset = tf.data.TFRecordDataset(path, compression_type='GZIP')
    return [tf.train.Example.FromString(record) for record in dataset.as_numpy_iterator()]


def test_span_dir_is_span_dash_number_inside_the_data_root():
    assert span_dir('data/digits', 3) == os.path.join('data/digits', 'span-3')


def test_list_spans_sorts_numbers_and_ignores_other_entries(tmp_path):
    for name in ('span-10', 'span-2', 'span-1', '.span-3-x.tmp', 'span-x', 'spans'):
        (tmp_path / name).mkdir()
    (tmp_path / 'span-7').write_text('a file, not a span')

    assert list_spans(str(tmp_path)) == [1, 2, 10]


def test_missing_data_root_has_no_spans_and_next_span_is_1(tmp_path):
    root = str(tmp_path / 'absent')

    assert list_spans(root) == []
    assert next_span(root) == 1


def test_next_span_follows_the_highest_span(tmp_path):
    (tmp_path / 'span-1').mkdir()
    (tmp_path / 'span-4').mkdir()

    assert next_span(str(tmp_path)) == 5


def test_write_span_writes_one_example_per_digit_in_order(tmp_path, small_digits):
    root = str(tmp_path / 'data')

    info = write_span(small_digits, root)

    assert info.span == 1
    assert info.path == os.path.join(root, 'span-1')
    assert info.count == 50
    assert info.image_size == 8
    assert info.label_counts == small_digits.label_counts()
    assert info.seconds >= 0
    assert os.listdir(info.path) == ['digits.tfrecord.gz']
    examples = _read_examples(os.path.join(info.path, 'digits.tfrecord.gz'))
    assert len(examples) == 50
    for example, image, label in zip(
        examples, small_digits.images, small_digits.labels, strict=True
    ):
        features = example.features.feature
        assert sorted(features) == ['image', 'label']
        assert list(features['image'].int64_list.value) == image.ravel().tolist()
        assert list(features['label'].int64_list.value) == [label]


def test_write_span_without_number_takes_the_next_span(tmp_path, small_digits):
    write_span(small_digits, str(tmp_path), span=4)

    info = write_span(small_digits, str(tmp_path))

    assert info.span == 5
    assert list_spans(str(tmp_path)) == [4, 5]


def test_write_span_refuses_to_overwrite_an_existing_span(tmp_path, small_digits):
    write_span(small_digits, str(tmp_path))
    before = os.path.getmtime(os.path.join(span_dir(str(tmp_path), 1), spans.FILE_NAME))

    with pytest.raises(DataError) as error:
        write_span(small_digits, str(tmp_path), span=1)

    assert str(error.value) == (
        f'{span_dir(str(tmp_path), 1)} already exists and spans are never overwritten; '
        'write span 2 instead, or remove the folder first'
    )
    after = os.path.getmtime(os.path.join(span_dir(str(tmp_path), 1), spans.FILE_NAME))
    assert after == before
    assert sorted(os.listdir(tmp_path)) == ['span-1']


def test_write_span_leaves_only_the_span_folder_readable_by_others(tmp_path, small_digits):
    info = write_span(small_digits, str(tmp_path))

    assert os.listdir(tmp_path) == ['span-1']
    assert stat.S_IMODE(os.stat(info.path).st_mode) == 0o755


def test_failed_write_span_leaves_neither_span_nor_temp_folder(tmp_path, small_digits, monkeypatch):
    serialize = example_format.serialize_examples

    def failing_examples(digits):
        yield from list(serialize(digits))[:10]
        raise OSError('disk full')

    monkeypatch.setattr(example_format, 'serialize_examples', failing_examples)

    with pytest.raises(OSError, match='disk full'):
        write_span(small_digits, str(tmp_path))

    assert os.listdir(tmp_path) == []


def test_write_spans_splits_digits_into_consecutive_new_spans(tmp_path, all_digits):
    root = str(tmp_path / 'data')
    write_span(all_digits, root)

    infos = spans.write_spans(all_digits, root, 3)

    assert [info.span for info in infos] == [2, 3, 4]
    assert [info.count for info in infos] == [599, 599, 599]
    examples = _read_examples(os.path.join(infos[1].path, 'digits.tfrecord.gz'))
    first = examples[0].features.feature['image'].int64_list.value
    assert list(first) == all_digits.images[599].ravel().tolist()


def test_write_spans_refuses_more_spans_than_examples(tmp_path, small_digits):
    with pytest.raises(DataError, match='cannot split 50 examples of .* into 51 spans'):
        spans.write_spans(small_digits, str(tmp_path), 51)


def test_a_span_folder_with_leading_zeros_is_refused_by_name(tmp_path):
    # TFX reads span-011 as span 11 and then looks for span-11/: refuse it up front.
    for name in ('span-9', 'span-10', 'span-011'):
        (tmp_path / name).mkdir()

    with pytest.raises(DataError, match=r'span-011.*leading zeros.*span-11'):
        list_spans(str(tmp_path))
