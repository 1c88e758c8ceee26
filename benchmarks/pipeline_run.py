"""Times a cold local run and an unchanged rerun, and prints where the time goes.

    python benchmarks/pipeline_run.py [--dataset digits] [--work-root /tmp/bench]

Each run is `python -m runners.local_runner` in a subprocess, as `make run` starts it. Peak
memory is the largest sum of resident memory over the runner and all its children, sampled
every 50 ms. Per-component durations come from ML Metadata. Targets on a 2-core machine:
cold run under 70 s, unchanged rerun under 10 s, peak memory under 2.5 GB.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

from pipeline.config import PipelineConfig
from pipeline.run_summary import read_run_summary, sqlite_connection

TARGETS = {'cold': 70.0, 'unchanged rerun': 10.0}
MEMORY_TARGET_GB = 2.5


def measure(command: list[str]) -> tuple[int, float, float]:
    """Runs a command; returns its exit code, wall seconds and peak tree RSS in GB."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2')
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            tree = [root] + root.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    return process.returncode, time.monotonic() - started, peak / 1e9


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--dataset', default='digits')
    parser.add_argument('--work-root', default=None, help='default: a fresh temporary folder')
    args = parser.parse_args()

    work_root = args.work_root or tempfile.mkdtemp(prefix='tfx-bench-')
    shutil.rmtree(work_root, ignore_errors=True)
    config = PipelineConfig(dataset=args.dataset, work_root=work_root)
    command = [
        sys.executable,
        '-m',
        'runners.local_runner',
        f'--dataset={args.dataset}',
        f'--work-root={work_root}',
    ]

    print(f'Benchmarking the local pipeline on {config.data_root} (work root {work_root})')
    failed = False
    for name in ('cold', 'unchanged rerun'):
        code, seconds, peak_gb = measure(command)
        verdict = 'ok' if seconds < TARGETS[name] and peak_gb < MEMORY_TARGET_GB else 'MISSED'
        print(
            f'{name:>16}: {seconds:6.1f} s wall (target < {TARGETS[name]:.0f} s), '
            f'peak {peak_gb:.2f} GB (target < {MEMORY_TARGET_GB} GB), exit {code}  [{verdict}]'
        )
        failed |= code != 0
        summary = read_run_summary(sqlite_connection(config.metadata_path), config.pipeline_name)
        component_seconds = sum(node.seconds for node in summary.nodes)
        print(
            f'{"":>18}components {component_seconds:.1f} s; start-up, imports and summary '
            f'{seconds - component_seconds:.1f} s'
        )
        for node in sorted(summary.nodes, key=lambda node: -node.seconds):
            print(f'{"":>18}{node.node_id:<18} {node.state:<9} {node.seconds:6.1f} s')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
