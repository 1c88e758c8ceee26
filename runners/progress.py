"""Readable progress for a local run: one line per node as it starts, finishes or is cached.

TFX, Beam and TensorFlow log thousands of INFO lines per run. This filter lets through the
orchestrator's node start and finish lines (rewritten with timings), this project's own INFO
logs, and every error; `--verbose` shows everything.
"""

from __future__ import annotations

import logging
import os
import time

_PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_NODE_RUNNING = 'node %s is running.'
_NODE_FINISHED = 'node %s is finished.'
_CACHED = 'A cached execution %d is used.'


class ProgressFilter(logging.Filter):
    """Keeps progress and project lines, drops library chatter, and times each node."""

    def __init__(self, total_nodes: int) -> None:
        super().__init__()
        self._total = total_nodes
        self._started: dict[str, float] = {}
        self._cached = False
        self._done = 0

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrites node lines with counts and timings; True keeps the record."""
        if record.msg == _NODE_RUNNING:
            node = record.args[0]
            self._started[node] = time.monotonic()
            self._cached = False
            record.msg, record.args = '[%d/%d] %s: running', (self._done + 1, self._total, node)
            return True
        if record.msg == _NODE_FINISHED:
            node = record.args[0]
            self._done += 1
            seconds = time.monotonic() - self._started.get(node, time.monotonic())
            how = 'cached' if self._cached else 'done'
            record.msg, record.args = (
                '[%d/%d] %s: %s in %.1f s',
                (
                    self._done,
                    self._total,
                    node,
                    how,
                    seconds,
                ),
            )
            return True
        if record.msg == _CACHED:
            self._cached = True
            return False
        if record.levelno >= logging.ERROR:
            return True
        return record.pathname.startswith(_PROJECT_ROOT) and '/.venv/' not in record.pathname


def install(total_nodes: int, verbose: bool) -> None:
    """Routes absl and Python logging through the progress filter unless verbose."""
    from absl import logging as absl_logging

    absl_logging.set_verbosity(absl_logging.INFO)
    absl_logging.use_absl_handler()
    handler = absl_logging.get_absl_handler()
    handler.setFormatter(logging.Formatter('%(asctime)s %(message)s', '%H:%M:%S'))
    for old in [f for f in handler.filters if isinstance(f, ProgressFilter)]:
        handler.removeFilter(old)
    if not verbose:
        handler.addFilter(ProgressFilter(total_nodes))
