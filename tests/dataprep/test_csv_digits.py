import re

import pytest

from dataprep.csv_digits import read_csv, write_csv
from dataprep.errors import DataError
from tests.dataprep.conftest import assert_same_digits

HEADER = 'label,' + ','.join(f'pixel{index}' for index in range(64))


def _lines(digits, count=5):
    rows = digits.images.reshape(digits.num_examples, -1)
    return [
        f'{label},' + ','.join(map(str, row))
        for label, row in zip(digits.labels[:count].tolist(), rows[:count].tolist(), strict=True)
    ]


def _write(tmp_path, lines, name='digits.csv'):
    path = tmp_path / name
    path.write_text(''.join(line + '\n' for line in lines))
    return str(path)


@pytest.mark.parametrize('header', [True, False])
def test_csv_reads_back_the_digits_it_was_written_from(tmp_path, small_digits, header):
    path = str(tmp_path / 'digits.csv')
    write_csv(small_digits, path, header=header)

    digits = read_csv(path)

    assert_same_digits(digits, small_digits)
    assert digits.source == path
    with open(path) as file:
        assert (file.readline().rstrip('\n') == HEADER) is header


def test_csv_skips_blank_lines_and_counts_them_in_line_numbers(tmp_path, small_digits):
    lines = _lines(small_digits)
    lines[3] = lines[3] + ',0'
    path = _write(tmp_path, [HEADER, '', lines[0], lines[1], '  ', lines[2], lines[3]])

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == f'{path} line 7: expected 64 pixel values after the label, found 65'


def test_csv_line_with_a_missing_pixel_names_its_line(tmp_path, small_digits):
    lines = _lines(small_digits, count=8)
    lines[5] = lines[5].rsplit(',', 1)[0]
    path = _write(tmp_path, lines)

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == f'{path} line 6: expected 64 pixel values after the label, found 63'


def test_csv_non_numeric_value_names_line_and_header_column(tmp_path, small_digits):
    lines = _lines(small_digits)
    fields = lines[2].split(',')
    fields[10] = 'ink'
    lines[2] = ','.join(fields)
    path = _write(tmp_path, [HEADER, *lines])

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == f"{path} line 4, column 11 ('pixel9'): 'ink' is not an integer"


def test_csv_without_header_names_pixel_position_of_a_non_numeric_value(tmp_path, small_digits):
    lines = _lines(small_digits)
    lines[1] = lines[1].rsplit(',', 1)[0] + ',4.5'
    path = _write(tmp_path, lines)

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == f"{path} line 2, column 65 (pixel 63): '4.5' is not an integer"


@pytest.mark.parametrize('label', ['10', '-1'])
def test_csv_label_outside_0_to_9_names_line_and_label(tmp_path, small_digits, label):
    lines = _lines(small_digits)
    lines[4] = label + lines[4][1:]
    path = _write(tmp_path, [HEADER, *lines])

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == (f"{path} line 6, column 1 ('label'): label {label} is outside 0..9")


def test_csv_negative_pixel_names_line_and_column(tmp_path, small_digits):
    lines = _lines(small_digits)
    lines[0] = lines[0][:2] + '-3' + lines[0][3:]
    path = _write(tmp_path, lines)

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == f'{path} line 1, column 2 (pixel 0): pixel value -3 is negative'


def test_csv_pixel_count_that_is_not_a_square_is_refused(tmp_path):
    path = _write(tmp_path, ['3,' + ','.join(['0'] * 63)])

    with pytest.raises(DataError) as error:
        read_csv(path)

    assert str(error.value) == (
        f'{path} line 1: 63 pixel columns after the label do not make a square image '
        '(7x7 would be 49)'
    )


@pytest.mark.parametrize('content', ['', '\n\n  \n'])
def test_empty_csv_is_an_error(tmp_path, content):
    path = tmp_path / 'empty.csv'
    path.write_text(content)

    with pytest.raises(DataError) as error:
        read_csv(str(path))

    assert str(error.value) == f'{path}: empty file; expected lines of label,pixel0,...,pixelN'


def test_csv_with_only_a_header_is_an_error(tmp_path):
    path = _write(tmp_path, [HEADER])

    with pytest.raises(DataError, match='a header row but no data lines'):
        read_csv(path)


def test_missing_csv_is_a_data_error(tmp_path):
    path = str(tmp_path / 'absent.csv')

    with pytest.raises(
        DataError, match=re.escape(f'{path}: cannot read: No such file or directory')
    ):
        read_csv(path)
