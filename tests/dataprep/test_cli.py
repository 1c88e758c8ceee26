import os
import subprocess
import sys

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
