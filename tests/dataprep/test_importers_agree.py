import os

import tensorflow as tf

from dataprep.check import check_data_root
from dataprep.csv_digits import read_csv, write_csv
from dataprep.idx import read_idx_pair, write_idx_pair
from dataprep.spans import FILE_NAME, write_span
from tests.dataprep.conftest import assert_same_digits


def _examples(span_path):
    dataset = tf.data.TFRecordDataset(os.path.join(span_path, FILE_NAME), compression_type='GZIP')
    return [tf.train.Example.FromString(record) for record in dataset.as_numpy_iterator()]


def test_idx_and_csv_of_the_same_digits_import_to_the_same_arrays_and_examples(
    tmp_path, small_digits
):
    images, labels = str(tmp_path / 'images-idx3-ubyte.gz'), str(tmp_path / 'labels-idx1-ubyte')
    write_idx_pair(small_digits, images, labels)
    csv_path = str(tmp_path / 'digits.csv')
    write_csv(small_digits, csv_path)

    from_idx = read_idx_pair(images, labels)
    from_csv = read_csv(csv_path)
    assert_same_digits(from_idx, small_digits)
    assert_same_digits(from_csv, small_digits)

    idx_span = write_span(from_idx, str(tmp_path / 'idx-root'))
    csv_span = write_span(from_csv, str(tmp_path / 'csv-root'))
    idx_examples = _examples(idx_span.path)
    assert len(idx_examples) == 50
    assert idx_examples == _examples(csv_span.path)
    idx_report = check_data_root(str(tmp_path / 'idx-root'))
    csv_report = check_data_root(str(tmp_path / 'csv-root'))
    assert idx_report.num_records == csv_report.num_records == 50
    assert idx_report.image_size == csv_report.image_size == 8
    assert idx_report.label_counts == csv_report.label_counts == small_digits.label_counts()
