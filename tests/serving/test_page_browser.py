"""In a real browser, a digit drawn on the page's canvas or uploaded comes back as a prediction."""

import io
import os
import pathlib

import numpy as np
import pytest
from PIL import Image

from serving.options import ServingOptions
from tests.helpers import CHROMIUM, CHROMIUM_ARGS
from tests.serving.serving_helpers import make_config, push_version, running_server

ARTIFACTS = pathlib.Path(__file__).resolve().parents[2] / 'test-artifacts'
RESULT_TIMEOUT_MS = 20_000

pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM),
    reason=f"{CHROMIUM} is missing; install Debian's chromium (apt-get install -y chromium)",
)


@pytest.fixture(scope='module')
def page_server(tmp_path_factory, exported_versions):
    config = make_config(tmp_path_factory.mktemp('page'))
    for version, path in exported_versions.items():
        push_version(config.serving_model_dir, version, path)
    with running_server(config, ServingOptions()) as live:
        yield live


@pytest.fixture(scope='module')
def browser_page(tmp_path_factory, page_server):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp('chromium-profile')
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={'width': 720, 'height': 900},
        )
        page = context.new_page()
        page.goto(page_server.url + '/')
        yield page
        context.close()


def shown_prediction(page):
    page.wait_for_selector('#result', state='visible', timeout=RESULT_TIMEOUT_MS)
    classes = page.locator('#top-classes li .digit').all_inner_texts()
    percents = page.locator('#top-classes li .probability').all_inner_texts()
    return classes, percents, page.inner_text('#model-version')


def test_drawn_seven_is_predicted_with_top_three_and_the_model_version(browser_page):
    page = browser_page
    page.click('#clear')
    box = page.locator('#pad').bounding_box()

    def at(x, y):
        return box['x'] + x * box['width'], box['y'] + y * box['height']

    page.mouse.move(*at(0.25, 0.2))
    page.mouse.down()
    page.mouse.move(*at(0.75, 0.2), steps=12)
    page.mouse.move(*at(0.42, 0.85), steps=18)
    page.mouse.up()
    page.click('#predict')

    classes, percents, version = shown_prediction(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / 'serving_page_drawn_seven.png'), full_page=True)
    assert len(classes) == 3 and len(set(classes)) == 3
    assert classes[0] == '7'
    assert all(text.endswith('%') for text in percents)
    assert version == '2'
    assert page.inner_text('#model-name') == 'digits'


def test_uploaded_digit_picture_is_predicted(browser_page, digit_set, tmp_path):
    ink = np.kron(digit_set.images[0] / 16.0, np.ones((20, 20)))
    picture = tmp_path / 'zero.png'
    buffer = io.BytesIO()
    Image.fromarray(np.round(255 * (1 - ink)).astype(np.uint8)).save(buffer, format='PNG')
    picture.write_bytes(buffer.getvalue())
    page = browser_page
    page.click('#clear')

    page.set_input_files('#upload', str(picture))

    classes, _, version = shown_prediction(page)
    page.screenshot(path=str(ARTIFACTS / 'serving_page_uploaded_zero.png'), full_page=True)
    assert classes[0] == str(digit_set.labels[0])
    assert version == '2'
