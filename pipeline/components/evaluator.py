"""The Evaluator with a baseline that may be empty: TFX's own executor, one step in front.

`ServingBaseline` always hands the Evaluator a Model artifact, since a Kubeflow task cannot
publish "no artifact". When that artifact is empty (nothing served yet) this executor drops it
before TFX's Evaluator executor runs, which then rubber-stamps the change threshold and judges
the candidate on the absolute accuracy bound alone, exactly as with no baseline at all.
"""

from typing import Any

from absl import logging
from tfx import types
from tfx import v1 as tfx
from tfx.components.evaluator import executor as evaluator_executor
from tfx.dsl.components.base import executor_spec
from tfx.types import standard_component_specs

from pipeline.components.serving_baseline import holds_model

_BASELINE_KEY = standard_component_specs.BASELINE_MODEL_KEY


class ServingBaselineExecutor(evaluator_executor.Executor):
    """TFX's Evaluator executor, ignoring a baseline artifact that holds no model."""

    def Do(  # noqa: N802 - TFX's executor interface.
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Runs TFMA; first removes the baseline input when it holds no SavedModel."""
        baselines = input_dict.get(_BASELINE_KEY, [])
        if baselines and not holds_model(baselines[0]):
            logging.info('The baseline holds no model: judging on the absolute bound alone')
            input_dict = {key: value for key, value in input_dict.items() if key != _BASELINE_KEY}
        super().Do(input_dict, output_dict, exec_properties)


class Evaluator(tfx.components.Evaluator):
    """TFX's Evaluator component whose baseline may be an empty ServingBaseline output."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(ServingBaselineExecutor)
