"""Fixtures shared across packages: real scikit-learn digits and a real Transform output."""

import os

import numpy as np
import pytest
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata, metadata_io

from models.image_spec import load_schema
from preprocessing.transform import preprocessing_fn

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
