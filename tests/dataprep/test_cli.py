import os
import subprocess
import sys

from PIL import Image

from dataprep import cli
from dataprep.check import check_data_root

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _run(*args):
    return subprocess.run(
        [sys.executable, '-m', 'dataprep', *args],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_digits_command_writes_1797_examples_and_check_command_accepts_them(tmp_path):
    root = str(tmp_path / 'digits')

    wrote = _run('digits', '--data-root', root)
    checked = _run('check', '--data-root', root)

    assert wrote.returncode == 0, wrote.stderr
    assert 'Wrote 1,797 examples (8x8 pixels, 10 classes) to ' in wrote.stderr
    assert checked.returncode == 0, checked.stderr
    assert 'Span 1 is ready' in checked.stderr
    report = check_data_root(root)
    assert (report.span, report.num_records, report.image_size) == (1, 1797, 8)


def test_bad_csv_exits_2_with_one_error_line_and_no_traceback(tmp_path):
    path = tmp_path / 'bad.csv'
    path.write_text('label,p0,p1,p2,p3\n1,0,5,7,0\n2,3,4\n')
    root = tmp_path / 'root'

    result = _run('csv', '--csv', str(path), '--data-root', str(root))

    assert result.returncode == 2
    assert result.stderr.endswith(
        f'error: {path} line 3: expected 4 pixel values after the label, found 2\n'
    )
    assert 'Traceback' not in result.stderr
    assert not root.exists()


def _run_in_process(*args):
    return cli.run(cli.build_parser().parse_args(list(args)))


def test_digits_command_writes_three_spans_to_simulate_data_arriving(tmp_path):
    root = str(tmp_path / 'digits')

    assert _run_in_process('digits', '--data-root', root, '--spans', '3') == 0

    assert [check_data_root(root, span).num_records for span in (1, 2, 3)] == [599, 599, 599]


def test_shuffle_labels_writes_a_degraded_span_with_the_same_label_counts(tmp_path):
    root = str(tmp_path / 'digits')

    assert _run_in_process('digits', '--data-root', root) == 0
    assert _run_in_process('digits', '--data-root', root, '--shuffle-labels', '0.33') == 0

    assert check_data_root(root, 2).label_counts == check_data_root(root, 1).label_counts


def test_images_command_takes_size_and_pixel_range_from_the_newest_span(tmp_path, small_digits):
    root = str(tmp_path / 'digits')
    assert _run_in_process('digits', '--data-root', root) == 0
    for index in range(10):
        folder = tmp_path / 'scans' / str(int(small_digits.labels[index]))
        folder.mkdir(parents=True)
        ink = (255 - small_digits.images[index] * 15).astype('uint8')
        Image.fromarray(ink).resize((40, 40)).save(folder / 'scan.png')

    code = _run_in_process('images', '--folder', str(tmp_path / 'scans'), '--data-root', root)

    assert code == 0
    report = check_data_root(root)
    assert (report.span, report.num_records, report.image_size, report.pixel_max) == (2, 10, 8, 16)


def test_images_command_into_an_empty_data_root_needs_size_and_range(tmp_path, capsys):
    (tmp_path / 'scans' / '1').mkdir(parents=True)

    code = _run_in_process(
        'images', '--folder', str(tmp_path / 'scans'), '--data-root', str(tmp_path / 'new')
    )

    assert code == 2
    assert 'give --image-size and --pixel-max' in capsys.readouterr().err


def test_span_and_spans_together_are_refused(tmp_path, capsys):
    code = _run_in_process('digits', '--data-root', str(tmp_path), '--span', '4', '--spans', '2')

    assert code == 2
    assert '--span names one span; leave it out' in capsys.readouterr().err
