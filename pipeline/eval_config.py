"""The TFMA evaluation that decides the blessing: accuracy bound and change vs. the baseline."""

import tensorflow_model_analysis as tfma

from models.export import EXAMPLES_SIGNATURE
from preprocessing import features

ACCURACY_METRIC = 'sparse_categorical_accuracy'


def build_eval_config(min_accuracy: float, max_accuracy_drop: float) -> tfma.EvalConfig:
    """Evaluates overall and per class; blesses on an absolute and a relative accuracy bound.

    Both bounds apply to the overall accuracy only: per-class accuracy is reported, not gated,
    since one class of 30 eval rows swings by 3% with a single digit.

    Args:
        min_accuracy: Lowest sparse categorical accuracy on the eval split that blesses.
        max_accuracy_drop: Largest drop against the baseline (the serving model) that blesses;
            ignored when nothing is served yet.

    Returns:
        The EvalConfig for TFX's Evaluator.
    """
    accuracy_threshold = tfma.MetricThreshold(
        value_threshold=tfma.GenericValueThreshold(lower_bound={'value': min_accuracy}),
        change_threshold=tfma.GenericChangeThreshold(
            direction=tfma.MetricDirection.HIGHER_IS_BETTER,
            absolute={'value': -max_accuracy_drop},
        ),
    )
    return tfma.EvalConfig(
        model_specs=[
            tfma.ModelSpec(
                signature_name=EXAMPLES_SIGNATURE,
                label_key=features.LABEL_KEY,
                model_type=tfma.TF_GENERIC,
            )
        ],
        slicing_specs=[
            tfma.SlicingSpec(),
            tfma.SlicingSpec(feature_keys=[features.LABEL_KEY]),
        ],
        metrics_specs=[
            tfma.MetricsSpec(
                metrics=[
                    tfma.MetricConfig(class_name='ExampleCount'),
                    tfma.MetricConfig(
                        class_name='SparseCategoricalAccuracy',
                        per_slice_thresholds=[
                            tfma.PerSliceMetricThreshold(
                                slicing_specs=[tfma.SlicingSpec()], threshold=accuracy_threshold
                            )
                        ],
                    ),
                    tfma.MetricConfig(class_name='MultiClassConfusionMatrixPlot'),
                ]
            )
        ],
    )
