"""The HTML run report: written after every run, self-contained, honest about where a run stopped.

The end-to-end tests read the reports of three real runs (`recorded_runs` in tests/conftest.py):
a blessed push, a retrained candidate not blessed against it, and a run stopped by anomalies.
"""

import html
import os
import re

import numpy as np
import pytest
from tensorflow_metadata.proto.v0 import statistics_pb2

from pipeline.lineage import MetadataReader
from pipeline.metadata_connection import open_store, sqlite_connection
from pipeline.report.content import ConfusionMatrix, read_confusion_matrix
from pipeline.report.render import confusion_matrix_png, feature_rows
from pipeline.report.run_report import LATEST_REPORT, reports_dir
from pipeline.run_summary import summarize_run
from runners import report as report_command


@pytest.fixture(scope='module')
def runs(recorded_runs):
    """The recorded runs from the store, in the order they ran, with their report files."""
    config = recorded_runs.config
    reader = MetadataReader(open_store(sqlite_connection(config.metadata_path)), 'digits')
    ordered = list(reversed(reader.runs()))
    folder = reports_dir(config.pipeline_root)
    return {
        'config': config,
        'runs': ordered,
        'reports': [os.path.join(folder, f'{run.run_id}.html') for run in ordered],
        'folder': folder,
    }


def read(path):
    with open(path, encoding='utf-8') as report:
        return report.read()


def section(page, element_id):
    """The text of one section (or div) of a report by id, tags stripped, spaces collapsed."""
    body = re.search(rf'<(section|div) id="{element_id}"[^>]*>(.*?)</\1>', page, re.S)[2]
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', ' ', body)).split())


def per_class_rows(page):
    table = re.search(r'<table id="per-class">(.*?)</table>', page, re.S)[1]
    return re.findall(r'<tr><td>(\d+)</td><td>(\d*)</td><td>([\d.]+)</td></tr>', table)


@pytest.mark.e2e
def test_every_run_wrote_its_report_and_latest_is_the_newest(runs, recorded_runs):
    assert sorted(os.listdir(runs['folder'])) == sorted(
        [LATEST_REPORT] + [os.path.basename(path) for path in runs['reports']]
    )
    assert read(os.path.join(runs['folder'], LATEST_REPORT)) == read(runs['reports'][-1])
    for output, path in zip(recorded_runs.outputs, runs['reports'], strict=True):
        assert f'Wrote the report of run {os.path.basename(path)[:-5]} (' in output
        assert path in output


@pytest.mark.e2e
def test_pushed_run_report_shows_the_evaluation_per_class_and_the_push(runs):
    page = read(runs['reports'][0])
    summary = summarize_run(runs['runs'][0])
    evaluation = summary.evaluation

    rows = per_class_rows(page)

    assert [int(label) for label, _, _ in rows] == list(range(10))
    assert sum(int(count) for _, count, _ in rows) == evaluation.rows
    assert [float(value) for _, _, value in rows] == [
        round(value, 3) for value in evaluation.class_accuracy.values()
    ]
    assert f'Accuracy on {evaluation.rows:,} eval rows: {evaluation.accuracy:.4f}' in section(
        page, 'evaluation'
    )
    assert 'BLESSED against these thresholds: SparseCategoricalAccuracy >= 0.9000' in section(
        page, 'decision'
    )
    assert section(page, 'push') == f'Push Pushed to {summary.pushed_destination} .'
    assert summary.drift and section(page, 'drift') == ' '.join(
        ['Drift and skew'] + [line.strip() for line in summary.drift]
    )
    assert 'src="data:image/png;base64,' in page


@pytest.mark.e2e
def test_confusion_matrix_counts_every_eval_row_once(runs):
    run = runs['runs'][0]
    evaluation = summarize_run(run).evaluation

    matrix = read_confusion_matrix(run.output('Evaluator', 'evaluation').uri)

    assert matrix.classes == list(range(10))
    assert matrix.total == evaluation.rows == summarize_run(run).split_rows['eval']
    assert np.trace(matrix.counts) / matrix.total == pytest.approx(evaluation.accuracy)
    assert list(matrix.counts.sum(axis=1)) == list(evaluation.class_rows.values())


@pytest.mark.e2e
def test_report_tables_tfdvs_statistics_per_split_and_feature(runs):
    page = read(runs['reports'][0])
    summary = summarize_run(runs['runs'][0])

    text = section(page, 'statistics')

    rows = ', '.join(f'{count:,} {split}' for split, count in summary.split_rows.items())
    assert text.startswith(f'Data statistics {rows} rows.')
    train = re.search(r'Split train (.*?) Split eval', text)[1]
    rows = f'{summary.split_rows["train"]:,} 0'
    # Pixels: 64 values per row, 0 to 16; labels: one value per row, 0 to 9.
    assert re.search(rf'image INT {rows} 64 [\d.]+ [\d.]+ [\d.]+% 0 [\d.]+ 16\b', train)
    assert re.search(rf'label INT {rows} 1 [\d.]+ [\d.]+ [\d.]+% 0 [\d.]+ 9\b', train)


@pytest.mark.e2e
def test_report_keeps_tfdvs_interactive_view_inert_until_asked(runs):
    page = read(runs['reports'][0])

    template = re.search(r'<template id="facets-template">(.*?)</template>', page, re.S)[1]

    assert '<facets-overview' in template
    assert 'https://raw.githubusercontent.com/PAIR-code/facets' in template
    outside = page.replace(template, '')
    assert not re.search(r'(src|href)="(https?:)?//', outside)


@pytest.mark.e2e
def test_not_blessed_report_shows_both_accuracies_and_the_failed_change_threshold(runs):
    page = read(runs['reports'][1])
    evaluation = summarize_run(runs['runs'][1]).evaluation

    decision = section(page, 'decision')

    assert f'scored {evaluation.baseline_accuracy:.4f} on the same rows' in section(
        page, 'evaluation'
    )
    assert 'NOT BLESSED against these thresholds:' in decision
    assert 'SparseCategoricalAccuracy change vs. the served model >= +0.5000' in decision
    assert f'Failed: {evaluation.validation_failures[0]}' in decision
    assert section(page, 'push') == 'Push Nothing pushed: what TF Serving serves is unchanged.'


@pytest.mark.e2e
def test_stopped_run_report_shows_statistics_anomalies_and_where_it_stopped(runs):
    page = read(runs['reports'][2])

    assert section(page, 'outcome').startswith('The run FAILED at AnomaliesGate. The sections')
    assert "split train, feature 'image': Out-of-range values" in section(page, 'anomalies')
    assert 'image INT 320 0 64 ' in section(page, 'statistics')
    assert section(page, 'evaluation') == 'Evaluation Not reached: the model was not evaluated.'
    assert section(page, 'push') == 'Push Not reached: the Pusher did not run.'


@pytest.mark.e2e
def test_report_command_rewrites_the_newest_runs_report_identically(runs, capsys):
    latest = os.path.join(runs['folder'], LATEST_REPORT)
    before = read(latest)
    os.remove(latest)
    os.remove(runs['reports'][-1])

    code = report_command.main([f'--work-root={runs["config"].work_root}'])

    assert code == 0
    assert capsys.readouterr().out.strip() == runs['reports'][-1]
    assert read(runs['reports'][-1]) == before
    assert read(latest) == before


@pytest.mark.e2e
def test_report_command_rewrites_an_older_run_without_touching_latest(runs):
    latest = os.path.join(runs['folder'], LATEST_REPORT)
    before = read(latest)

    code = report_command.main(
        [f'--work-root={runs["config"].work_root}', f'--run-id={runs["runs"][0].run_id}']
    )

    assert code == 0
    assert read(latest) == before


def test_report_command_without_a_store_exits_1(tmp_path):
    assert report_command.main([f'--work-root={tmp_path}']) == 1


def test_feature_rows_read_numeric_and_categorical_statistics():
    statistics = statistics_pb2.DatasetFeatureStatisticsList()
    dataset = statistics.datasets.add(num_examples=10)
    pixels = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.INT)
    pixels.path.step.append('image')
    pixels.num_stats.common_stats.num_non_missing = 10
    pixels.num_stats.common_stats.min_num_values = 64
    pixels.num_stats.common_stats.max_num_values = 64
    pixels.num_stats.common_stats.avg_num_values = 64
    pixels.num_stats.common_stats.tot_num_values = 640
    pixels.num_stats.num_zeros = 320
    pixels.num_stats.mean = 4.5
    pixels.num_stats.max = 16
    colour = dataset.features.add(type=statistics_pb2.FeatureNameStatistics.STRING)
    colour.path.step.append('colour')
    colour.string_stats.common_stats.num_non_missing = 8
    colour.string_stats.common_stats.num_missing = 2
    colour.string_stats.common_stats.min_num_values = 1
    colour.string_stats.common_stats.max_num_values = 2
    colour.string_stats.common_stats.avg_num_values = 1.25
    colour.string_stats.unique = 2
    colour.string_stats.top_values.add(value='red', frequency=6)
    colour.string_stats.top_values.add(value='blue', frequency=4)

    image_row, colour_row = feature_rows(statistics)

    assert image_row == {
        'feature': 'image',
        'type': 'INT',
        'present': '10',
        'missing': '0',
        'values': '64',
        'mean': '4.500',
        'std': '0.000',
        'zeros': '50.0%',
        'min': '0',
        'median': '0',
        'max': '16',
    }
    assert colour_row['values'] == '1-2 (avg 1.2)'
    assert colour_row['missing'] == '2'
    assert colour_row['top'] == '2 unique: red (6), blue (4)'


def test_confusion_matrix_is_drawn_as_a_png():
    matrix = ConfusionMatrix(classes=[0, 1, 2], counts=np.array([[5, 1, 0], [0, 4, 0], [0, 0, 3]]))

    image = confusion_matrix_png(matrix)

    assert image.startswith(b'\x89PNG\r\n\x1a\n')
    assert matrix.total == 13
