"""The code base passes the formatter and linter configured in pyproject.toml (`make lint`)."""

import os
import subprocess
import sys

import pytest

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUFF = os.path.join(os.path.dirname(sys.executable), 'ruff')


@pytest.mark.parametrize('command', [['format', '--check', '.'], ['check', '.']])
def test_ruff_is_clean(command):
    result = subprocess.run(
        [RUFF, *command], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )

    assert result.returncode == 0, result.stdout + result.stderr
