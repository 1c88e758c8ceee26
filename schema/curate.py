"""Regenerates a curated schema from a data root, for a person to review and check in.

    python -m schema.curate --data-root data/mnist --output schema/mnist

TFDV computes statistics of the newest span and infers a schema; the curation then states
what inference cannot know: the image is a fixed-size required feature whose pixels may span
the observed range, the label is a required categorical digit 0..9 that serving requests do
not carry, and how far a new span may drift from the previous one (and serving requests from
the training data) before a run stops. The result is printed as a diff against the schema
already in place.
"""

from __future__ import annotations

import argparse
import difflib
import math
import os
import sys

import tensorflow_data_validation as tfdv
from absl import logging
from tensorflow_metadata.proto.v0 import schema_pb2, statistics_pb2

from dataprep.check import check_data_root
from dataprep.errors import DataError
from preprocessing import features

SCHEMA_FILE = 'schema.pbtxt'
TRAINING = 'TRAINING'
SERVING = 'SERVING'
# Thresholds of the drift and skew comparators, chosen from distances measured between good
# spans of the 1,797 scikit-learn digits (the numbers are in the header below). A random span of
# 449 to 898 rows moves one class's share of the labels by at most 0.089 (3,000 pairs), so the
# L-infinity bound sits above that; 8x8 pixel histograms of good spans differ by a
# Jensen-Shannon divergence of at most 0.0012, so 0.01 is 8 times above the noise and still 6
# times below thickened strokes (0.060) and 19 times below inverted images (0.187).
LABEL_L_INFINITY = 0.1
IMAGE_JENSEN_SHANNON = 0.01
_HEADER = (
    '# Curated schema of the {dataset} data ({side}x{side} images, 10 classes).\n'
    "# Reviewed by hand from the schema TFDV inferred; regenerate with 'make schema'.\n"
    '# ExampleValidator checks every new span against this file, and Transform parses with it.\n'
    '# DriftValidator compares each new span with the previous one (drift_comparator) and logged\n'
    '# serving requests with the training split (skew_comparator). Thresholds come from the\n'
    '# 1,797 scikit-learn digits split into spans; distances between good spans:\n'
    '#   label, L-infinity: consecutive spans of 599 rows 0.010-0.012, of 299 rows 0.014-0.023;\n'
    '#     random spans (500 shuffles) of 898 rows max 0.050, of 599 max 0.072, of 449 max 0.089\n'
    '#   image, Jensen-Shannon: consecutive spans of 299-898 rows 0.0001-0.0012; random spans\n'
    '#     (100 shuffles) of 449-898 rows max 0.0004; 50 serving rows vs training max 0.0013\n'
    '# Drifted data measured: inverted images 0.187, strokes twice as thick 0.060, pixels\n'
    '#   0..255 0.554 (image); one class only 0.900, digits 0-4 only 0.106 (label).\n'
    '# Chosen: label L-infinity {label_l_infinity}; image Jensen-Shannon {image_js} (drift, skew)\n'
    '# Smaller spans are noisier: raise the label bound for spans under 450 rows.\n'
)


def _numeric_range(
    statistics: statistics_pb2.DatasetFeatureStatisticsList, name: str
) -> tuple[int, int]:
    for feature in statistics.datasets[0].features:
        if feature.path.step == [name]:
            return int(feature.num_stats.min), int(feature.num_stats.max)
    raise DataError(f'statistics: no numeric statistics for feature {name!r}')


def curate_schema(statistics: statistics_pb2.DatasetFeatureStatisticsList) -> schema_pb2.Schema:
    """Infers a schema with TFDV and applies the digit-specific curation.

    Args:
        statistics: TFDV statistics of one span.

    Returns:
        The curated schema: `image` int, fixed shape, required, domain from the observed pixel
        range, drift and skew bounded by Jensen-Shannon divergence; `label` int, required,
        categorical 0..9, absent in the SERVING environment, drift bounded by L-infinity
        distance.
    """
    inferred = tfdv.infer_schema(statistics, infer_feature_shape=True)
    pixel_min, pixel_max = _numeric_range(statistics, features.IMAGE_KEY)
    inferred_image = tfdv.get_feature(inferred, features.IMAGE_KEY)

    schema = schema_pb2.Schema()
    image = schema.feature.add(name=features.IMAGE_KEY, type=schema_pb2.INT)
    image.int_domain.min, image.int_domain.max = pixel_min, pixel_max
    image.presence.min_fraction, image.presence.min_count = 1.0, 1
    image.shape.CopyFrom(inferred_image.shape)

    label = schema.feature.add(name=features.LABEL_KEY, type=schema_pb2.INT)
    label.int_domain.min, label.int_domain.max = 0, features.NUM_CLASSES - 1
    label.int_domain.is_categorical = True
    label.presence.min_fraction, label.presence.min_count = 1.0, 1
    label.shape.dim.add(size=1)
    label.not_in_environment.append(SERVING)

    image.drift_comparator.jensen_shannon_divergence.threshold = IMAGE_JENSEN_SHANNON
    image.skew_comparator.jensen_shannon_divergence.threshold = IMAGE_JENSEN_SHANNON
    label.drift_comparator.infinity_norm.threshold = LABEL_L_INFINITY

    schema.default_environment.extend([TRAINING, SERVING])
    return schema


def span_statistics(data_root: str) -> statistics_pb2.DatasetFeatureStatisticsList:
    """Checks the newest span of a data root and computes its TFDV statistics."""
    report = check_data_root(data_root)
    logging.info(
        'Computing statistics of span %d: %s examples in %d file(s)',
        report.span,
        f'{report.num_records:,}',
        len(report.files),
    )
    pattern = os.path.join(os.path.dirname(report.files[0]), '*.tfrecord.gz')
    return tfdv.generate_statistics_from_tfrecord(data_location=pattern)


def schema_text(schema: schema_pb2.Schema, dataset: str) -> str:
    """The schema in text format behind a header that says where it came from."""
    num_pixels = tfdv.get_feature(schema, features.IMAGE_KEY).shape.dim[0].size
    header = _HEADER.format(
        dataset=dataset,
        side=math.isqrt(num_pixels),
        label_l_infinity=LABEL_L_INFINITY,
        image_js=IMAGE_JENSEN_SHANNON,
    )
    return header + str(schema)


def main(argv: list[str] | None = None) -> int:
    """Writes `<output>/schema.pbtxt` and prints how it differs from the previous file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', required=True, help='data root with span-<N> folders')
    parser.add_argument('--output', required=True, help='folder for schema.pbtxt')
    args = parser.parse_args(argv)
    logging.set_verbosity(logging.INFO)

    try:
        schema = curate_schema(span_statistics(args.data_root))
    except DataError as error:
        print(f'error: {error}', file=sys.stderr)
        return 2

    path = os.path.join(args.output, SCHEMA_FILE)
    text = schema_text(schema, os.path.basename(os.path.normpath(args.output)))
    previous = open(path).read() if os.path.exists(path) else ''
    os.makedirs(args.output, exist_ok=True)
    with open(path, 'w') as schema_file:
        schema_file.write(text)

    diff = list(
        difflib.unified_diff(previous.splitlines(), text.splitlines(), path, path, n=1, lineterm='')
    )
    print('\n'.join(diff) if diff else f'{path}: unchanged')
    print(f'Wrote {path}. Review it, then commit it: new spans are validated against it.')
    return 0


if __name__ == '__main__':
    sys.exit(main())
