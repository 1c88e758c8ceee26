"""The one pipeline definition, shared by the local Beam runner and the Kubeflow runner.

The canonical TFX DAG, ExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator ->
Transform -> Trainer -> Evaluator -> Pusher, plus four small nodes that make it safe to run
unattended: the curated schema imported from `schema/`, a gate that stops the run on data
anomalies, a check of drift between spans and of skew between training and serving data, and
the serving model looked up as the Evaluator's baseline. Nothing here knows
which orchestrator runs it.
"""

from __future__ import annotations

import hashlib

from google.protobuf import message
from tfx import v1 as tfx
from tfx.proto import example_gen_pb2
from tfx.utils import proto_utils

from models.trainer import TrainingParams
from pipeline.components.anomalies_gate import AnomaliesGate
from pipeline.components.drift_validator import DriftValidator
from pipeline.components.evaluator import Evaluator
from pipeline.components.pusher import Pusher
from pipeline.components.serving_baseline import ServingBaseline
from pipeline.components.span_window import ImportExampleGen, span_pattern
from pipeline.config import PipelineConfig
from pipeline.eval_config import build_eval_config

# ExampleGen resolves {SPAN} to the newest span folder that dataprep wrote.
SPAN_PATTERN = span_pattern('{SPAN}')
PREPROCESSING_FN = 'preprocessing.transform.preprocessing_fn'
RUN_FN = 'models.trainer.run_fn'
# Names of the run-time parameters, as an orchestrator's UI shows them (see create_pipeline).
TRAIN_ARGS_PARAMETER = 'train_args'
EVAL_CONFIG_PARAMETER = 'eval_config'


def _file_sha256(path: str) -> str:
    with tfx.dsl.io.fileio.open(path, 'rb') as schema_file:
        return hashlib.sha256(schema_file.read()).hexdigest()


def _runtime_parameter(name: str, value: message.Message) -> tfx.dsl.experimental.RuntimeParameter:
    """A string run-time parameter holding a proto as JSON, its default the built value."""
    return tfx.dsl.experimental.RuntimeParameter(
        name=name, ptype=str, default=proto_utils.proto_to_json(value)
    )


def create_components(
    config: PipelineConfig, runtime_parameters: bool = False
) -> list[tfx.dsl.components.base.BaseNode]:
    """Builds every node of the pipeline, wired, in dependency order.

    Args:
        config: Data, schema and serving locations, training and blessing settings.
        runtime_parameters: Make the training steps and the accuracy thresholds run-time
            parameters whose defaults are the config's values (see create_pipeline).

    Returns:
        The nodes, each with an id that names its job.
    """
    train_args = tfx.proto.TrainArgs(num_steps=config.train_steps)
    eval_config = build_eval_config(config.min_accuracy, config.max_accuracy_drop)
    if runtime_parameters:
        train_args = _runtime_parameter(TRAIN_ARGS_PARAMETER, train_args)
        eval_config = _runtime_parameter(EVAL_CONFIG_PARAMETER, eval_config)

    # Reads the newest span (or the rolling window of the newest spans) of tf.Example files
    # and splits it 4:1 by hash into train and eval.
    example_gen = ImportExampleGen(
        input_base=config.data_root,
        input_config=example_gen_pb2.Input(
            splits=[example_gen_pb2.Input.Split(name='span', pattern=SPAN_PATTERN)]
        ),
        output_config=example_gen_pb2.Output(
            split_config=example_gen_pb2.SplitConfig(
                splits=[
                    example_gen_pb2.SplitConfig.Split(
                        name='train', hash_buckets=config.train_buckets
                    ),
                    example_gen_pb2.SplitConfig.Split(
                        name='eval', hash_buckets=config.eval_buckets
                    ),
                ]
            )
        ),
        span_window=config.span_window,
    )

    # Computes TFDV statistics of each split: the input of every data check and of the report.
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs['examples'])

    # Infers a schema from this span's statistics, kept for review against the curated one.
    schema_gen = tfx.components.SchemaGen(
        statistics=statistics_gen.outputs['statistics'], infer_feature_shape=True
    )

    # Brings in the reviewed schema from schema/; its hash makes an edited file a new artifact.
    curated_schema = tfx.dsl.Importer(
        source_uri=config.schema_dir,
        artifact_type=tfx.types.standard_artifacts.Schema,
        custom_properties={'sha256': _file_sha256(config.curated_schema_path)},
    ).with_id('CuratedSchema')

    # Validates the statistics against the curated schema. It waits for SchemaGen so that a run
    # stopped by anomalies has the inferred schema on record, to compare with the curated one.
    example_validator = tfx.components.ExampleValidator(
        statistics=statistics_gen.outputs['statistics'],
        schema=curated_schema.outputs['result'],
    )
    example_validator.add_upstream_node(schema_gen)

    # Fails the run on any anomaly; Transform waits for it.
    anomalies_gate = AnomaliesGate(anomalies=example_validator.outputs['anomalies'])

    # Fails the run when the newest span drifted from the previous one, or logged serving
    # requests skewed from the training data, beyond the curated schema's comparators.
    drift_validator = DriftValidator(
        examples=example_gen.outputs['examples'],
        statistics=statistics_gen.outputs['statistics'],
        schema=curated_schema.outputs['result'],
        data_root=config.data_root,
        prediction_log_dir=config.prediction_log_dir,
        accept_drift=config.accept_drift,
        min_serving_rows=config.min_serving_rows,
    )
    drift_validator.add_upstream_node(anomalies_gate)

    # Scales pixels with analyzers over the train split; training and serving share the graph.
    transform = tfx.components.Transform(
        examples=example_gen.outputs['examples'],
        schema=curated_schema.outputs['result'],
        preprocessing_fn=PREPROCESSING_FN,
    )
    transform.add_upstream_node(anomalies_gate)
    transform.add_upstream_node(drift_validator)

    # Trains the Keras classifier and exports both serving signatures.
    trainer = tfx.components.Trainer(
        run_fn=RUN_FN,
        examples=transform.outputs['transformed_examples'],
        transform_graph=transform.outputs['transform_graph'],
        schema=curated_schema.outputs['result'],
        train_args=train_args,
        eval_args=tfx.proto.EvalArgs(),
        custom_config=TrainingParams(
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            hidden_units=config.hidden_units,
        ).to_custom_config(),
    )

    # Copies the model being served, if any, to compare the candidate against.
    serving_baseline = ServingBaseline(
        model=trainer.outputs['model'], serving_model_dir=config.serving_model_dir
    )

    # Evaluates with TFMA on the eval split and blesses only on the accuracy thresholds.
    evaluator = Evaluator(
        examples=example_gen.outputs['examples'],
        model=trainer.outputs['model'],
        baseline_model=serving_baseline.outputs['baseline_model'],
        eval_config=eval_config,
    )

    # Pushes a blessed model as a new TF Serving version; an unblessed one goes nowhere.
    pusher = Pusher(
        model=trainer.outputs['model'],
        model_blessing=evaluator.outputs['blessing'],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(base_directory=config.serving_model_dir)
        ),
    )

    return [
        example_gen,
        statistics_gen,
        schema_gen,
        curated_schema,
        example_validator,
        anomalies_gate,
        drift_validator,
        transform,
        trainer,
        serving_baseline,
        evaluator,
        pusher,
    ]


def create_pipeline(
    config: PipelineConfig,
    metadata_connection_config: object | None = None,
    beam_pipeline_args: list[str] | None = None,
    runtime_parameters: bool = False,
) -> tfx.dsl.Pipeline:
    """Builds the pipeline that every runner hands to its orchestrator.

    Args:
        config: The pipeline's settings.
        metadata_connection_config: ML Metadata connection; None lets the orchestrator choose
            (Kubeflow's own store).
        beam_pipeline_args: Beam options for the Beam-based components; defaults to the ones
            the config describes.
        runtime_parameters: For orchestrators that let a person change settings per run
            (Kubeflow Pipelines): the Trainer's TrainArgs and the Evaluator's EvalConfig become
            run-time parameters named `train_args` and `eval_config`, each the JSON of the value
            the config builds. TFX takes run-time parameters only for whole proto properties,
            so the steps and thresholds are edited inside that JSON.

    Returns:
        The TFX pipeline.
    """
    return tfx.dsl.Pipeline(
        pipeline_name=config.pipeline_name,
        pipeline_root=config.pipeline_root,
        components=create_components(config, runtime_parameters),
        enable_cache=config.enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=(
            config.beam_pipeline_args() if beam_pipeline_args is None else beam_pipeline_args
        ),
    )
