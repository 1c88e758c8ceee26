"""Writes the HTML report of a run next to its artifacts, and keeps a copy as `latest.html`.

Reports live in `<pipeline root>/reports/<run id>.html`. Each is one self-contained file: open
it in a browser straight from disk, or copy it anywhere.
"""

from __future__ import annotations

import os
import time

from absl import logging
from tfx.dsl.io import fileio

from pipeline.lineage import MetadataReader
from pipeline.metadata_connection import StoreConfig, open_store
from pipeline.report.content import read_report_content
from pipeline.report.render import render_report

REPORTS_DIR = 'reports'
LATEST_REPORT = 'latest.html'


def reports_dir(pipeline_root: str) -> str:
    """The folder of a pipeline's run reports."""
    return os.path.join(pipeline_root, REPORTS_DIR)


def write_run_report(
    store_config: StoreConfig, pipeline_name: str, pipeline_root: str, run_id: str | None = None
) -> str:
    """Writes the report of one run, and copies it to `latest.html` when it is the newest run.

    Args:
        store_config: Where the metadata store is.
        pipeline_name: The TFX pipeline name.
        pipeline_root: The pipeline root; reports go to its `reports/` folder.
        run_id: The run to report on; None for the newest.

    Returns:
        The path of the report written.

    Raises:
        LookupError: The store holds no run of that pipeline, or none with that id.
    """
    started = time.monotonic()
    reader = MetadataReader(open_store(store_config), pipeline_name)
    latest = reader.latest_run()
    if run_id is None or run_id == latest.run_id:
        run = latest
    else:
        matching = [each for each in reader.runs() if each.run_id == run_id]
        if not matching:
            raise LookupError(f'pipeline {pipeline_name!r} has no run {run_id!r}')
        run = matching[0]

    html = render_report(read_report_content(run))
    folder = reports_dir(pipeline_root)
    fileio.makedirs(folder)
    path = os.path.join(folder, f'{run.run_id}.html')
    with fileio.open(path, 'w') as report:
        report.write(html)
    if run is latest:
        fileio.copy(path, os.path.join(folder, LATEST_REPORT), overwrite=True)
    logging.info(
        'Wrote the report of run %s (%s KB) in %.1f s: %s',
        run.run_id,
        f'{len(html) / 1024:,.0f}',
        time.monotonic() - started,
        path,
    )
    return path
