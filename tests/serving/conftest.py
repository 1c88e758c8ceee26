"""Shared fixtures of the serving tests: trained and exported model versions, and live servers."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tensorflow as tf

from serving.options import ServingOptions
from tests.serving.serving_helpers import (
    Digits,
    LiveServer,
    export_saved_model,
    make_config,
    push_version,
    running_server,
    train_model,
)


@pytest.fixture(scope='session')
def digit_set(digits) -> Digits:
    """The shared scikit-learn digits as 8x8 images, float32 pixel rows and labels."""
    pixels, labels = digits
    return Digits(pixels.reshape(-1, 8, 8).astype(np.float64), pixels.astype(np.float32), labels)


@pytest.fixture(scope='session')
def exported_versions(tmp_path_factory, digit_set) -> dict[int, str]:
    """Two exported versions that answer differently: 1 is small and rough, 2 is well trained."""
    root = tmp_path_factory.mktemp('exported')
    versions = {}
    for version, (seed, hidden_units, epochs) in {1: (1, 8, 3), 2: (0, 32, 20)}.items():
        path = str(root / str(version))
        export_saved_model(train_model(digit_set, seed, hidden_units, epochs), path)
        versions[version] = path
    return versions


@pytest.fixture(scope='session')
def reference_models(exported_versions) -> dict[int, object]:
    """The same SavedModels loaded in-process, the reference for served answers."""
    return {version: tf.saved_model.load(path) for version, path in exported_versions.items()}


@pytest.fixture
def fast_options() -> ServingOptions:
    """Options with a short poll interval so hot reload shows within a test."""
    return ServingOptions(poll_interval_s=0.1)


@pytest.fixture(scope='module')
def module_server(tmp_path_factory, exported_versions) -> Iterator[LiveServer]:
    """One server for a whole test module, serving versions 1 and 2 (2 is the newest)."""
    config = make_config(tmp_path_factory.mktemp('served'))
    for version, path in exported_versions.items():
        push_version(config.serving_model_dir, version, path)
    with running_server(config, ServingOptions()) as live:
        yield live
