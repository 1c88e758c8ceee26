"""Helpers several test packages share: running the local runner, hashing trees, Chromium."""

import hashlib
import os
import subprocess
import sys

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = '/usr/bin/chromium'
# Headless, and kept off the network: this machine's closed network refuses Chromium's own
# background connections.
CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-proxy-server',
]


def run_pipeline(work_root, data_root, *flags: str) -> tuple[int, str]:
    """Runs `python -m runners.local_runner` as a person would; returns exit code and output."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
    command = [
        sys.executable,
        '-m',
        'runners.local_runner',
        f'--work-root={work_root}',
        f'--data-root={data_root}',
        *flags,
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=600, cwd=PROJECT_ROOT
    )
    return result.returncode, result.stdout + result.stderr


def tree_digest(folder) -> dict[str, str]:
    """Every file under a folder with the SHA-256 of its bytes."""
    digests = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, 'rb') as content:
                digests[os.path.relpath(path, folder)] = hashlib.sha256(content.read()).hexdigest()
    return digests
