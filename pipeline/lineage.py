"""Lineage from ML Metadata: a pipeline's runs, and what any pushed model was made from.

`MetadataReader` lists the runs of one pipeline, newest first, with each node's state and
duration, and gives the artifacts a node used or made in a run. `MetadataReader.model_lineage`
starts from the Pusher output that names a TF Serving version and follows ML Metadata's events
back: Pusher <- model (Trainer) <- transform graph and transformed examples (Transform) <-
examples (ImportExampleGen, with their span) and the curated schema, plus the Evaluator's
evaluation and blessing of that model. It reads only metadata, never artifact contents.

Both layouts of a store are understood: TFX's own orchestrators (contexts `pipeline` and
`pipeline_run`, one `node` context per component) and the Kubeflow Pipelines 2.x backend
(contexts `system.Pipeline` and `system.PipelineRun`, the node in each execution's `task_name`).
"""

from __future__ import annotations

import dataclasses

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2

from pipeline.components.span_window import WINDOW_SPANS_PROPERTY

PIPELINE_CONTEXT_TYPES = ('pipeline', 'system.Pipeline')
RUN_CONTEXT_TYPES = ('pipeline_run', 'system.PipelineRun')
NODE_CONTEXT_TYPE = 'node'
# Kubeflow Pipelines records the pipeline task of each execution under this property.
TASK_NAME_PROPERTY = 'task_name'
PUSHED_MODEL_TYPES = ('PushedModel', 'tfx.PushedModel')

_STATES = {value: name for name, value in metadata_store_pb2.Execution.State.items()}
_INPUT = metadata_store_pb2.Event.INPUT
_OUTPUT = metadata_store_pb2.Event.OUTPUT

Artifact = metadata_store_pb2.Artifact
Execution = metadata_store_pb2.Execution


class UnknownVersionError(LookupError):
    """No push of the asked-for TF Serving version is recorded in the metadata store."""


@dataclasses.dataclass(frozen=True)
class NodeRun:
    """One node's execution in a run: its state (COMPLETE, CACHED, FAILED...) and seconds."""

    node_id: str
    state: str
    seconds: float


@dataclasses.dataclass(frozen=True)
class ModelLineage:
    """A pushed TF Serving version and the artifacts it came from; None where not recorded.

    Attributes:
        version: The TF Serving version number.
        run_id: The pipeline run whose Pusher wrote this version.
        pushed_at: When that Pusher finished, in seconds since the epoch.
        pushed_model: The Pusher's PushedModel output.
        model: The Trainer's Model that was pushed.
        blessing: The Evaluator's ModelBlessing that let it through.
        evaluation: The Evaluator's ModelEvaluation of the model.
        baseline_model: The model it was compared with (empty when nothing was served).
        transform_graph: The Transform graph the model was trained through.
        transformed_examples: The Transform's output the Trainer read.
        examples: ImportExampleGen's Examples, with their span (or window of spans).
        statistics: StatisticsGen's statistics of those examples: the rows per split.
        schema: The curated schema (the `sha256` of its file) Transform and Trainer used.
    """

    version: int
    run_id: str
    pushed_at: float
    pushed_model: Artifact
    model: Artifact | None = None
    blessing: Artifact | None = None
    evaluation: Artifact | None = None
    baseline_model: Artifact | None = None
    transform_graph: Artifact | None = None
    transformed_examples: Artifact | None = None
    examples: Artifact | None = None
    statistics: Artifact | None = None
    schema: Artifact | None = None

    @property
    def spans(self) -> list[int]:
        """The data spans the model was trained and evaluated on, oldest first."""
        return example_spans(self.examples) if self.examples else []


def example_spans(examples: Artifact) -> list[int]:
    """The spans an Examples artifact holds: its window of spans, or its one `span`.

    Args:
        examples: An Examples artifact of ImportExampleGen.

    Returns:
        Span numbers, oldest first; empty when none is recorded.
    """
    window = string_property(examples, WINDOW_SPANS_PROPERTY)
    if window:
        return [int(span) for span in window.split(',')]
    span = int_property(examples, 'span')
    return [] if span is None else [span]


def int_property(artifact: Artifact, name: str) -> int | None:
    """An integer property or custom property of an artifact, None when absent.

    Kubeflow Pipelines stores numbers it passes through as doubles; they come back as int.
    """
    for properties in (artifact.properties, artifact.custom_properties):
        if name in properties:
            value = properties[name]
            kind = value.WhichOneof('value')
            if kind == 'int_value':
                return value.int_value
            if kind == 'double_value':
                return int(value.double_value)
            digits = value.string_value.lstrip('-')
            if kind == 'string_value' and digits.isascii() and digits.isdigit():
                return int(value.string_value)
    return None


def string_property(artifact: Artifact, name: str) -> str | None:
    """A string property or custom property of an artifact, None when absent."""
    for properties in (artifact.properties, artifact.custom_properties):
        if name in properties and properties[name].WhichOneof('value') == 'string_value':
            return properties[name].string_value
    return None


class PipelineRun:
    """One run of a pipeline: the executions of its nodes and the artifacts they used or made."""

    def __init__(
        self,
        store: metadata_store.MetadataStore,
        pipeline_name: str,
        context: metadata_store_pb2.Context,
    ) -> None:
        self._store = store
        self.pipeline_name = pipeline_name
        self.run_id = context.name
        self.started = context.create_time_since_epoch / 1000.0
        executions = sorted(store.get_executions_by_context(context.id), key=lambda e: e.id)
        named = [(self._node_id(execution), execution) for execution in executions]
        self._executions = [(node_id, execution) for node_id, execution in named if node_id]

    def _node_id(self, execution: Execution) -> str | None:
        task_name = execution.custom_properties.get(TASK_NAME_PROPERTY)
        if task_name is not None and task_name.string_value:
            return task_name.string_value
        prefix = self.pipeline_name + '.'
        for context in self._store.get_contexts_by_execution(execution.id):
            if context.type == NODE_CONTEXT_TYPE and context.name.startswith(prefix):
                return context.name[len(prefix) :]
        return None

    def node_runs(self) -> list[NodeRun]:
        """Each node's execution in this run, in the order they started."""
        runs = []
        for node_id, execution in self._executions:
            milliseconds = (
                execution.last_update_time_since_epoch - execution.create_time_since_epoch
            )
            state = _STATES.get(execution.last_known_state, 'UNKNOWN')
            runs.append(NodeRun(node_id=node_id, state=state, seconds=milliseconds / 1000.0))
        return runs

    def execution(self, node_id: str) -> Execution | None:
        """The execution of a node in this run, None when the node never started."""
        found = [execution for name, execution in self._executions if name == node_id]
        return found[-1] if found else None

    def output(self, node_id: str, key: str) -> Artifact | None:
        """The artifact a node of this run produced, or reused from cache, under `key`."""
        execution = self.execution(node_id)
        if execution is None:
            return None
        return _artifacts_by_key(self._store, execution.id, _OUTPUT).get(key)


class MetadataReader:
    """Reads one pipeline's runs and the lineage of its pushed models from ML Metadata."""

    def __init__(self, store: metadata_store.MetadataStore, pipeline_name: str) -> None:
        """Finds the pipeline in the store.

        Args:
            store: An open metadata store.
            pipeline_name: The TFX pipeline name.

        Raises:
            LookupError: The store knows no pipeline of that name.
        """
        self._store = store
        self.pipeline_name = pipeline_name
        contexts = [
            context
            for kind in PIPELINE_CONTEXT_TYPES
            if (context := store.get_context_by_type_and_name(kind, pipeline_name)) is not None
        ]
        if not contexts:
            raise LookupError(
                f'pipeline {pipeline_name!r} has no runs in the metadata store; '
                'run `make run` first'
            )
        self._pipeline_context = contexts[0]

    def runs(self, limit: int | None = None) -> list[PipelineRun]:
        """The pipeline's runs, newest first.

        Args:
            limit: How many runs at most; None for all.

        Returns:
            The runs; empty when none is recorded.
        """
        kinds = ', '.join(f"'{kind}'" for kind in RUN_CONTEXT_TYPES)
        options = metadata_store.ListOptions(
            filter_query=(
                f'type IN ({kinds}) AND parent_contexts_a.id = {self._pipeline_context.id}'
            ),
            order_by=metadata_store.OrderByField.CREATE_TIME,
            is_asc=False,
            limit=limit,
        )
        contexts = self._store.get_contexts(list_options=options)
        return [PipelineRun(self._store, self.pipeline_name, context) for context in contexts]

    def latest_run(self) -> PipelineRun:
        """The newest run.

        Returns:
            The run.

        Raises:
            LookupError: The pipeline has no runs.
        """
        runs = self.runs(limit=1)
        if not runs:
            raise LookupError(f'pipeline {self.pipeline_name!r} has no runs in the metadata store')
        return runs[0]

    def pushed_versions(self) -> dict[int, Artifact]:
        """Every TF Serving version this pipeline pushed, with the Pusher output that first did.

        A rerun that re-blesses the model already served records the same version again; the
        earliest record is the push that wrote it.
        """
        kinds = ', '.join(f"'{kind}'" for kind in PUSHED_MODEL_TYPES)
        options = metadata_store.ListOptions(
            filter_query=f'type IN ({kinds}) AND contexts_a.id = {self._pipeline_context.id}'
        )
        versions: dict[int, Artifact] = {}
        for artifact in sorted(self._store.get_artifacts(list_options=options), key=_id):
            version = int_property(artifact, 'pushed_version')
            if int_property(artifact, 'pushed') == 1 and version is not None:
                versions.setdefault(version, artifact)
        return versions

    def model_lineage(self, version: int) -> ModelLineage:
        """Follows a pushed version back to the model, evaluation, transform, data and schema.

        Args:
            version: A TF Serving version number this pipeline pushed.

        Returns:
            The version's lineage.

        Raises:
            UnknownVersionError: No push of that version is recorded.
        """
        pushed = self.pushed_versions()
        if version not in pushed:
            known = ', '.join(str(number) for number in sorted(pushed)) or 'none'
            raise UnknownVersionError(
                f'pipeline {self.pipeline_name!r} never pushed version {version}; '
                f'versions it pushed: {known}'
            )
        pushed_model = pushed[version]
        pusher = self._producer(pushed_model)
        pusher_inputs = _artifacts_by_key(self._store, pusher.id, _INPUT)
        model = pusher_inputs.get('model')
        blessing = pusher_inputs.get('model_blessing')

        trainer_inputs = self._inputs_of_producer(model) if model else {}
        transform_graph = trainer_inputs.get('transform_graph')
        transform_inputs = self._inputs_of_producer(transform_graph) if transform_graph else {}
        examples = transform_inputs.get('examples')

        evaluator_outputs: dict[str, Artifact] = {}
        evaluator_inputs: dict[str, Artifact] = {}
        if blessing is not None:
            evaluator = self._producer(blessing)
            evaluator_outputs = _artifacts_by_key(self._store, evaluator.id, _OUTPUT)
            evaluator_inputs = _artifacts_by_key(self._store, evaluator.id, _INPUT)

        return ModelLineage(
            version=version,
            run_id=self._run_id(pusher),
            pushed_at=pusher.last_update_time_since_epoch / 1000.0,
            pushed_model=pushed_model,
            model=model,
            blessing=blessing,
            evaluation=evaluator_outputs.get('evaluation'),
            baseline_model=evaluator_inputs.get('baseline_model'),
            transform_graph=transform_graph,
            transformed_examples=trainer_inputs.get('examples'),
            examples=examples,
            statistics=self._made_from(examples, 'statistics') if examples else None,
            schema=trainer_inputs.get('schema') or transform_inputs.get('schema'),
        )

    def _producer(self, artifact: Artifact) -> Execution:
        """The execution that made an artifact; later cached executions only reuse it."""
        events = self._store.get_events_by_artifact_ids([artifact.id])
        ids = [event.execution_id for event in events if event.type == _OUTPUT]
        executions = self._store.get_executions_by_id(ids)
        complete = [e for e in executions if e.last_known_state == Execution.COMPLETE]
        return min(complete or executions, key=_id)

    def _inputs_of_producer(self, artifact: Artifact) -> dict[str, Artifact]:
        return _artifacts_by_key(self._store, self._producer(artifact).id, _INPUT)

    def _made_from(self, artifact: Artifact, key: str) -> Artifact | None:
        """The first artifact under output `key` of any execution that read `artifact`."""
        events = self._store.get_events_by_artifact_ids([artifact.id])
        readers = sorted({event.execution_id for event in events if event.type == _INPUT})
        for execution_id in readers:
            made = _artifacts_by_key(self._store, execution_id, _OUTPUT).get(key)
            if made is not None:
                return made
        return None

    def _run_id(self, execution: Execution) -> str:
        for context in self._store.get_contexts_by_execution(execution.id):
            if context.type in RUN_CONTEXT_TYPES:
                return context.name
        return ''


def _id(item: Artifact | Execution) -> int:
    return item.id


def _artifacts_by_key(
    store: metadata_store.MetadataStore,
    execution_id: int,
    event_type: int,
) -> dict[str, Artifact]:
    """An execution's input or output artifacts by the key TFX (or Kubeflow) names them."""
    ids_by_key = {
        event.path.steps[0].key: event.artifact_id
        for event in store.get_events_by_execution_ids([execution_id])
        if event.type == event_type and event.path.steps
    }
    artifacts = {a.id: a for a in store.get_artifacts_by_id(list(ids_by_key.values()))}
    return {key: artifacts[artifact_id] for key, artifact_id in ids_by_key.items()}
