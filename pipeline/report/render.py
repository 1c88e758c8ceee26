"""Renders a run report as one self-contained HTML file: no server, no network requests.

The confusion matrix is a PNG drawn with matplotlib and embedded as base64. The statistics are
an HTML table per split built from TFDV's protos. TFDV's own interactive view (Facets
Overview) loads its code from cdnjs.cloudflare.com and raw.githubusercontent.com, so the report
keeps it inert in a `<template>` and builds it only when the reader presses its button: opened
offline, the report makes no request at all.
"""

from __future__ import annotations

import base64
import datetime
import io
import os

import jinja2
import numpy as np
from matplotlib.figure import Figure
from tensorflow_data_validation.utils import display_util
from tensorflow_metadata.proto.v0 import statistics_pb2

from pipeline.report.content import ConfusionMatrix, ReportContent
from pipeline.run_summary import describe_outcome

TEMPLATE = 'run_report.html.j2'
_TYPES = statistics_pb2.FeatureNameStatistics.Type
_TOP_VALUES = 3


def confusion_matrix_png(matrix: ConfusionMatrix) -> bytes:
    """Draws the confusion matrix, with the count written in every cell that has rows.

    Args:
        matrix: Eval rows by true and predicted class.

    Returns:
        The PNG image.
    """
    figure = Figure(figsize=(5.2, 4.6), dpi=100)
    axes = figure.add_subplot()
    image = axes.imshow(matrix.counts, cmap='Blues')
    figure.colorbar(image, ax=axes, label='eval rows')
    ticks = range(len(matrix.classes))
    axes.set_xticks(ticks, [str(label) for label in matrix.classes])
    axes.set_yticks(ticks, [str(label) for label in matrix.classes])
    axes.set_xlabel('predicted class')
    axes.set_ylabel('true class')
    axes.set_title(f'Confusion matrix, {matrix.total:,} eval rows')
    dark = matrix.counts.max() / 2
    for (row, column), count in np.ndenumerate(matrix.counts):
        if count:
            color = 'white' if count > dark else 'black'
            axes.text(column, row, str(count), ha='center', va='center', color=color, fontsize=8)
    figure.tight_layout()

    buffer = io.BytesIO()
    figure.savefig(buffer, format='png')
    return buffer.getvalue()


def feature_rows(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> list[dict[str, str]]:
    """One row of readable numbers per feature of one split, as TFDV computed them.

    Args:
        statistics: TFDV statistics of one split.

    Returns:
        Rows with the keys feature, type, present, missing, values, mean, std, zeros, min,
        median, max and top (the most frequent values of a categorical feature).
    """
    rows = []
    for feature in statistics.datasets[0].features:
        row = {
            'feature': '.'.join(feature.path.step) or feature.name,
            'type': _TYPES.Name(feature.type),
        }
        kind = feature.WhichOneof('stats')
        stats = getattr(feature, kind) if kind else None
        common = stats.common_stats if stats is not None and kind != 'struct_stats' else None
        if common is not None:
            row['present'] = f'{common.num_non_missing:,}'
            row['missing'] = f'{common.num_missing:,}'
            row['values'] = (
                f'{common.min_num_values}-{common.max_num_values} (avg {common.avg_num_values:.1f})'
                if common.min_num_values != common.max_num_values
                else str(common.min_num_values)
            )
        if kind == 'num_stats':
            total = common.tot_num_values or 1
            row.update(
                mean=f'{stats.mean:.3f}',
                std=f'{stats.std_dev:.3f}',
                zeros=f'{100.0 * stats.num_zeros / total:.1f}%',
                min=f'{stats.min:g}',
                median=f'{stats.median:g}',
                max=f'{stats.max:g}',
            )
        elif kind == 'string_stats':
            top = ', '.join(
                f'{value.value} ({value.frequency:g})' for value in stats.top_values[:_TOP_VALUES]
            )
            row['top'] = f'{stats.unique:,} unique: {top}'
        rows.append(row)
    return rows


def facets_html(statistics: dict[str, statistics_pb2.DatasetFeatureStatisticsList]) -> str:
    """TFDV's own Facets Overview of the first two splits, side by side; it needs network.

    Args:
        statistics: TFDV statistics by split, train first.

    Returns:
        TFDV's HTML snippet.
    """
    names = list(statistics)
    if len(names) == 1:
        return display_util.get_statistics_html(statistics[names[0]], lhs_name=names[0])
    return display_util.get_statistics_html(
        statistics[names[0]],
        statistics[names[1]],
        lhs_name=names[0],
        rhs_name=names[1],
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_report(content: ReportContent) -> str:
    """Renders the report page.

    Args:
        content: What the run recorded.

    Returns:
        A complete HTML document that needs no other file and no network.
    """
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(os.path.dirname(os.path.abspath(__file__))),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    summary = content.summary
    confusion_png = None
    if content.confusion_matrix is not None:
        confusion_png = base64.b64encode(confusion_matrix_png(content.confusion_matrix)).decode()
    statistics = content.statistics or {}
    return environment.get_template(TEMPLATE).render(
        summary=summary,
        content=content,
        started=datetime.datetime.fromtimestamp(content.started).strftime('%Y-%m-%d %H:%M:%S'),
        total_seconds=sum(node.seconds for node in summary.nodes),
        outcome=_sentence(describe_outcome(summary)),
        feature_tables={split: feature_rows(stats) for split, stats in statistics.items()},
        facets=facets_html(statistics) if statistics else None,
        confusion_png=confusion_png,
        evaluation=summary.evaluation,
    )
