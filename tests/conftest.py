"""Fixtures shared across packages: real digits, a real Transform output, real recorded runs."""

import dataclasses
import os

import numpy as np
import pytest
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from models.image_spec import load_schema
from pipeline.config import PipelineConfig
from preprocessing.transform import preprocessing_fn
from tests.helpers import run_pipeline

PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIGITS_SCHEMA = os.path.join(PROJECT_ROOT, 'schema', 'digits', 'schema.pbtxt')


@pytest.fixture(scope='session')
def digits() -> tuple[np.ndarray, np.ndarray]:
    """All 1,797 real 8x8 digits as (images [N, 64] int64 in 0..16, labels [N] int64)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.data.astype(np.int64), bunch.target.astype(np.int64)


def analyze_and_transform(
    images: np.ndarray, labels: np.ndarray, output_dir: str
) -> tuple[list[dict], str]:
    """Runs the real preprocessing_fn through TFT on Beam and writes a Transform graph folder."""
    metadata = dataset_metadata.DatasetMetadata(load_schema(DIGITS_SCHEMA))
    rows = [{'image': image, 'label': [label]} for image, label in zip(images, labels, strict=True)]
    with tft_beam.Context(temp_dir=os.path.join(output_dir, 'tmp')):
        (transformed, _), transform_fn = (rows, metadata) | tft_beam.AnalyzeAndTransformDataset(
            preprocessing_fn
        )
        transform_fn | tft_beam.WriteTransformFn(output_dir)
    raw_metadata_dir = os.path.join(output_dir, tft.TFTransformOutput.RAW_METADATA_DIR)
    metadata_io.write_metadata(metadata, raw_metadata_dir)
    return transformed, output_dir


@pytest.fixture(scope='session')
def transform_output(digits, tmp_path_factory) -> tft.TFTransformOutput:
    """The Transform graph analysed over the first 300 real digits."""
    images, labels = digits
    output_dir = str(tmp_path_factory.mktemp('transform'))
    analyze_and_transform(images[:300], labels[:300], output_dir)
    return tft.TFTransformOutput(output_dir)


@dataclasses.dataclass(frozen=True)
class RecordedRuns:
    """Three real local runs of the pipeline recorded in one metadata store, newest last.

    Attributes:
        config: The settings every run shared (work root, pipeline root, metadata path).
        outputs: What each run printed, in the order they ran.
        codes: Each run's exit status, in the order they ran.
    """

    config: PipelineConfig
    outputs: list[str]
    codes: list[int]


NUM_RECORDED_DIGITS = 800


@pytest.fixture(scope='session')
def recorded_runs(digits, tmp_path_factory) -> RecordedRuns:
    """Runs the local pipeline three times into one store, for the lineage and report tests.

    1. The first 800 real digits as span 1, 300 training steps: blessed and pushed.
    2. The same data with 100 training steps and a demanded gain of 0.5 over the served model:
       a new candidate, compared with the served version, not blessed.
    3. A new data root whose span 1 holds 400 digits with pixels 0..256: stopped by the
       anomalies gate before training.
    """
    images, labels = digits
    base = tmp_path_factory.mktemp('recorded-runs')
    config = PipelineConfig(work_root=str(base / 'work'))
    first_data = str(base / 'data')
    write_span(
        DigitSet(
            images=images[:NUM_RECORDED_DIGITS].reshape(-1, 8, 8),
            labels=labels[:NUM_RECORDED_DIGITS],
            source='first 800 scikit-learn digits',
        ),
        first_data,
        1,
    )
    rescaled_data = str(base / 'rescaled-data')
    write_span(
        DigitSet(
            images=(images[:400] * 16).reshape(-1, 8, 8), labels=labels[:400], source='0..256'
        ),
        rescaled_data,
        1,
    )

    runs = [
        run_pipeline(config.work_root, first_data, '--train-steps=300'),
        run_pipeline(config.work_root, first_data, '--train-steps=100', '--max-accuracy-drop=-0.5'),
        run_pipeline(config.work_root, rescaled_data),
    ]
    return RecordedRuns(
        config=config, outputs=[output for _, output in runs], codes=[code for code, _ in runs]
    )
