"""Times a cold local run, an unchanged rerun and a run on a new span, and where the time goes.

    python benchmarks/pipeline_run.py [--dataset digits] [--work-root /tmp/bench]

Each run is `python -m runners.local_runner` in a subprocess, as `make run` starts it, on a copy
of the data set's newest span in the work root (the data root itself is never written). The
third run adds that copy again as a new span, as a delivery of new data would, while every
output of the first span is in the cache. Peak memory is the largest sum of resident memory
over the runner and all its children, sampled every 50 ms. Per-component durations come from ML
Metadata. Targets on a 2-core machine: cold run under 70 s, unchanged rerun under 10 s, a new
span no slower than a cold run, peak memory under 2.5 GB.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import psutil

from dataprep import spans
from dataprep.check import check_data_root
from pipeline.config import PipelineConfig
from pipeline.metadata_connection import sqlite_connection
from pipeline.run_summary import read_run_summary

TARGETS = {'cold': 70.0, 'unchanged rerun': 10.0, 'new span': 70.0}
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
    source = PipelineConfig(dataset=args.dataset).data_root
    newest = os.path.dirname(check_data_root(source).files[0])
    data_root = os.path.join(work_root, 'data')
    shutil.copytree(newest, spans.span_dir(data_root, 1))
    config = PipelineConfig(dataset=args.dataset, work_root=work_root, data_root=data_root)
    command = [
        sys.executable,
        '-m',
        'runners.local_runner',
        f'--dataset={args.dataset}',
        f'--work-root={work_root}',
        f'--data-root={data_root}',
    ]

    print(f'Benchmarking the local pipeline on a copy of {newest} (work root {work_root})')
    failed = False
    wall = {}
    for name in ('cold', 'unchanged rerun', 'new span'):
        if name == 'new span':
            shutil.copytree(newest, spans.span_dir(data_root, 2))
        code, seconds, peak_gb = measure(command)
        wall[name] = seconds
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
    print(
        f'A new span took {wall["new span"] / wall["cold"]:.0%} of a cold run: TFX reuses only '
        'the nodes whose inputs are unchanged, and new data changes every input downstream.'
    )
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
