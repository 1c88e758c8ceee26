"""ServingBaseline: the model currently served, as the Evaluator's baseline, with no Resolver.

TFX's usual baseline is a `Resolver` node, which the open-source Kubeflow Pipelines 2.x backend
cannot execute. This component runs as an ordinary container task on both runners: it looks in
the serving model directory for the newest complete version and copies it into its output Model
artifact. With nothing served yet the artifact stays empty and the Evaluator judges the
candidate on the absolute bound alone.

The candidate model is an input so that the baseline is looked up afresh whenever a new
candidate is trained, never taken from a stale cache.
"""

import os

from absl import logging
from tfx import v1 as tfx
from tfx.utils import io_utils, path_utils

from pipeline import serving_layout

SERVING_VERSION_PROPERTY = 'serving_version'


def holds_model(model_artifact: tfx.types.standard_artifacts.Model) -> bool:
    """Whether a Model artifact holds a SavedModel (False for an empty baseline)."""
    return serving_layout.is_complete_saved_model(path_utils.serving_model_path(model_artifact.uri))


@tfx.dsl.components.component
def ServingBaseline(  # noqa: N802 - TFX names components like classes.
    model: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Model],
    baseline_model: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Model],
    serving_model_dir: tfx.dsl.components.Parameter[str],
) -> None:
    """Copies the newest served version into `baseline_model`, or leaves it empty.

    Args:
        model: The candidate from the Trainer; only orders and invalidates this lookup.
        baseline_model: Output Model artifact; gets the served SavedModel when one exists.
        serving_model_dir: TF Serving's model base path, `<serving root>/<model name>`.
    """
    version = serving_layout.latest_version(serving_model_dir)
    if version is None:
        logging.info(
            'No model served under %s yet: the candidate %s is judged on the absolute bound',
            serving_model_dir,
            model.uri,
        )
        baseline_model.set_int_custom_property(SERVING_VERSION_PROPERTY, 0)
        return

    source = os.path.join(serving_model_dir, str(version))
    io_utils.copy_dir(source, path_utils.serving_model_dir(baseline_model.uri))
    baseline_model.set_int_custom_property(SERVING_VERSION_PROPERTY, version)
    logging.info('Baseline is served version %d from %s', version, source)
