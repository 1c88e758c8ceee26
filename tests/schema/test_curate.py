"""Regenerating the curated schema from real data reproduces the file that is checked in."""

import os

from google.protobuf import text_format
from tensorflow_metadata.proto.v0 import schema_pb2

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from schema import curate
from tests.conftest import DIGITS_SCHEMA


def _digits_root(digits, tmp_path, scale=1):
    images, labels = digits
    root = str(tmp_path / 'data')
    write_span(DigitSet(images=images.reshape(-1, 8, 8) * scale, labels=labels, source='t'), root)
    return root


def test_curating_the_default_digits_reproduces_the_checked_in_schema(digits, tmp_path):
    output = tmp_path / 'digits'

    assert (
        curate.main(['--data-root', _digits_root(digits, tmp_path), '--output', str(output)]) == 0
    )

    checked_in = text_format.Parse(open(DIGITS_SCHEMA).read(), schema_pb2.Schema())
    regenerated = text_format.Parse(open(output / 'schema.pbtxt').read(), schema_pb2.Schema())
    assert regenerated == checked_in
    assert open(output / 'schema.pbtxt').read() == open(DIGITS_SCHEMA).read()


def test_the_pixel_range_comes_from_the_data(digits, tmp_path):
    root = _digits_root(digits, tmp_path, scale=15)

    schema = curate.curate_schema(curate.span_statistics(root))

    image = schema.feature[0]
    assert (image.int_domain.min, image.int_domain.max) == (0, 240)
    assert image.shape.dim[0].size == 64


def test_an_empty_data_root_is_refused_with_exit_2(tmp_path, capsys):
    os.makedirs(tmp_path / 'empty')

    code = curate.main(['--data-root', str(tmp_path / 'empty'), '--output', str(tmp_path / 'x')])

    assert code == 2
    assert 'has no span-' in capsys.readouterr().err
