"""In a real browser, opened straight from disk: every section shows and nothing is fetched.

Reads the reports of the recorded runs (`recorded_runs` in tests/conftest.py). Every request the
page makes is recorded, and any that leaves the file system is refused before it goes out.
Screenshots go to test-artifacts/.
"""

import os
import pathlib

import pytest

from pipeline.report.run_report import LATEST_REPORT, reports_dir
from tests.helpers import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / 'test-artifacts'
SECTIONS = [
    'outcome',
    'components',
    'statistics',
    'anomalies',
    'drift',
    'evaluation',
    'decision',
    'push',
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"{CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium)",
    ),
]


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    """A headless Chromium whose requests are recorded; only file: and data: URLs load."""
    from playwright.sync_api import sync_playwright

    requested = []

    def local_only(route):
        requested.append(route.request.url)
        if route.request.url.startswith(('file:', 'data:')):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp('chromium-profile')),
            executable_path=CHROMIUM,
            headless=True,
            # Resolve no host name: the report must not need any.
            args=[*CHROMIUM_ARGS, '--host-resolver-rules=MAP * ~NOTFOUND'],
            viewport={'width': 1100, 'height': 900},
        )
        context.route('**/*', local_only)
        yield context, requested
        context.close()


def open_report(browser, path):
    context, requested = browser
    requested.clear()
    page = context.new_page()
    page.goto(pathlib.Path(path).as_uri())
    page.wait_for_load_state('load')
    return page, requested


@pytest.fixture(scope='module')
def reports(recorded_runs):
    folder = reports_dir(recorded_runs.config.pipeline_root)
    names = sorted(name for name in os.listdir(folder) if name != LATEST_REPORT)
    return {'pushed': os.path.join(folder, names[0]), 'stopped': os.path.join(folder, names[-1])}


def test_pushed_run_report_shows_every_section_and_the_confusion_matrix_offline(browser, reports):
    page, requested = open_report(browser, reports['pushed'])

    for section in SECTIONS:
        assert page.locator(f'#{section}').is_visible(), section
    image = page.locator('#confusion-matrix')
    image.scroll_into_view_if_needed()
    assert page.evaluate("document.getElementById('confusion-matrix').complete")
    assert page.evaluate("document.getElementById('confusion-matrix').naturalWidth") > 0
    assert page.locator('#per-class tr').count() == 1 + 10
    assert page.locator('table.feature-table').count() == 2
    assert page.inner_text('#outcome').startswith('BLESSED and pushed to ')
    assert requested == [pathlib.Path(reports['pushed']).as_uri()]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / 'run_report_pushed.png'), full_page=True)
    page.close()


def test_stopped_run_report_shows_the_anomalies_and_what_was_not_reached(browser, reports):
    page, requested = open_report(browser, reports['stopped'])

    assert page.inner_text('#outcome').startswith('The run FAILED at AnomaliesGate.')
    assert "feature 'image': Out-of-range values" in page.inner_text('#anomalies')
    assert page.locator('#components .state-FAILED').inner_text() == 'FAILED'
    assert 'Not reached' in page.inner_text('#evaluation')
    assert page.locator('#confusion-matrix').count() == 0
    assert requested == [pathlib.Path(reports['stopped']).as_uri()]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / 'run_report_stopped.png'), full_page=True)
    page.close()


def test_tfdv_view_is_built_from_its_template_only_when_asked(browser, reports):
    page, requested = open_report(browser, reports['pushed'])
    assert page.locator('#facets-frame').count() == 0
    assert '<facets-overview' in page.evaluate(
        "document.getElementById('facets-template').innerHTML"
    )
    # TFDV's snippet would fetch Facets from the internet: swap in a local one to press the
    # button without any request leaving this machine.
    page.evaluate(
        "document.getElementById('facets-template').innerHTML = '<p id=\"stand-in\">view</p>'"
    )

    page.click('#facets-button')

    frame = page.frame_locator('#facets-frame')
    assert frame.locator('#stand-in').inner_text() == 'view'
    assert page.locator('#facets-button').is_disabled()
    assert requested == [pathlib.Path(reports['pushed']).as_uri()]
    page.close()
