"""The command every task of the compiled Kubeflow pipeline runs inside the pipeline image.

    python -m runners.kubeflow_entrypoint --executor_class_path CLASS
        --json_serialized_invocation_args '{{$}}' --json_serialized_inputs_spec_args JSON
        [--json_serialized_outputs_spec_args JSON] [--example_gen_driver] [Beam flags]

TFX's Kubeflow V2 entry point (`kubeflow_v2_run_executor`) was written for Vertex AI Pipelines.
On the open-source Kubeflow Pipelines 2.x backend three of its assumptions fail; this command
repairs each one, then hands the task to TFX's entry point unchanged:

1. Artifact types. The backend's driver resolves input artifacts from ML Metadata and sends them
   with an empty `instanceSchema` (its metadata client does not keep the schema), and newer
   backends rename types to `system.*` titles; TFX picks the artifact class from that schema.
   The compiled component definitions carry the real types, so they are restored from there.
2. The ExampleGen driver. TFX compiles file-based ExampleGens with the span resolution in a
   `lifecycle.preCacheCheck` hook, which the open-source backend never runs: `{SPAN}` would
   reach the executor unresolved. With `--example_gen_driver` this command runs TFX's own
   driver first, in the same container, and passes its span, version and fingerprint on.
3. Directory markers. TensorFlow's GCS filesystem writes a zero-byte `<folder>/` object for each
   folder it creates; the backend's launcher downloads every input object as a file, so a
   marker becomes a file where the next task needs a folder, and that task fails before it
   starts. After the executor, markers under each `gs://` output are deleted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from absl import app, logging
from absl.flags import argparse_flags
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from tfx.dsl.io import fileio
from tfx.orchestration.kubeflow.v2.container import kubeflow_v2_run_executor
from tfx.orchestration.kubeflow.v2.file_based_example_gen import driver as example_gen_driver

OUTPUTS_SPEC_FLAG = '--json_serialized_outputs_spec_args'
EXAMPLE_GEN_DRIVER_FLAG = '--example_gen_driver'
_GCS_SCHEME = 'gs://'
_CUSTOM_PREFIX = 'custom:'
_TYPED_PROPERTIES = ('span', 'version')


def parse_flags(argv: Sequence[str]) -> tuple[argparse.Namespace, list[str]]:
    """Splits the command line into this command's flags and the Beam flags after them.

    Args:
        argv: The arguments without the program name.

    Returns:
        The parsed flags and the remaining (Beam) arguments, in their order.
    """
    parser = argparse_flags.ArgumentParser(
        prog='runners.kubeflow_entrypoint', description=__doc__.splitlines()[0], allow_abbrev=False
    )
    parser.add_argument('--executor_class_path', required=True)
    parser.add_argument('--json_serialized_invocation_args', required=True)
    parser.add_argument('--json_serialized_inputs_spec_args', default='')
    parser.add_argument(OUTPUTS_SPEC_FLAG, dest='json_serialized_outputs_spec_args', default='')
    parser.add_argument(EXAMPLE_GEN_DRIVER_FLAG, dest='example_gen_driver', action='store_true')
    return parser.parse_known_args(argv)


def restore_artifact_types(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    inputs_spec: pipeline_spec_pb2.ComponentInputsSpec,
    outputs_spec: pipeline_spec_pb2.ComponentOutputsSpec,
) -> int:
    """Gives every input and output artifact the type its component definition declares.

    Args:
        executor_input: The task's executor input, changed in place.
        inputs_spec: The component's input definitions from the compiled spec.
        outputs_spec: The component's output definitions from the compiled spec.

    Returns:
        How many artifacts had a type other than the declared one.
    """
    changed = 0
    pairs = [
        (executor_input.inputs.artifacts, inputs_spec.artifacts),
        (executor_input.outputs.artifacts, outputs_spec.artifacts),
    ]
    for artifact_lists, declared in pairs:
        for key, artifact_list in artifact_lists.items():
            if key not in declared:
                continue
            for artifact in artifact_list.artifacts:
                if artifact.type != declared[key].artifact_type:
                    artifact.type.CopyFrom(declared[key].artifact_type)
                    changed += 1
    return changed


def run_example_gen_driver(
    executor_input: pipeline_spec_pb2.ExecutorInput,
    inputs_spec_json: str,
) -> None:
    """Runs TFX's file-based ExampleGen driver in this process, before the executor.

    The driver resolves `{SPAN}` (and `{VERSION}`) to the newest span of the input base and
    computes the input fingerprint. It writes them to the task's output metadata file, where
    TFX's executor entry point reads them as execution properties; the span, version and
    fingerprint it sets on the output Examples are copied into `executor_input` here, span and
    version as the Examples type's properties.

    Args:
        executor_input: The task's executor input, changed in place.
        inputs_spec_json: The component's input definitions, as JSON.
    """
    example_gen_driver.main(
        argparse.Namespace(
            json_serialized_invocation_args=json_format.MessageToJson(executor_input),
            json_serialized_inputs_spec_args=inputs_spec_json,
        )
    )
    driver_output = pipeline_spec_pb2.ExecutorOutput()
    with fileio.open(executor_input.outputs.output_file, 'r') as output_file:
        json_format.Parse(output_file.read(), driver_output, ignore_unknown_fields=True)

    for key, resolved in driver_output.artifacts.items():
        targets = executor_input.outputs.artifacts[key].artifacts
        for target, source in zip(targets, resolved.artifacts, strict=False):
            metadata = json_format.MessageToDict(source.metadata)
            # The driver records span and version as custom properties, which would reach
            # the next tasks wrapped in structs; they travel as the Examples type's own
            # properties instead, the numbers downstream components read as `span`.
            for name in _TYPED_PROPERTIES:
                if _CUSTOM_PREFIX + name in metadata:
                    metadata[name] = metadata.pop(_CUSTOM_PREFIX + name)
            target.metadata.update(metadata)
    parameters = driver_output.parameter_values
    logging.info(
        'ExampleGen driver: span %d, input fingerprint %s',
        int(parameters['span'].number_value),
        parameters['input_fingerprint'].string_value,
    )


def remove_directory_markers(uri: str, client: Any = None) -> int:
    """Deletes the zero-byte `<folder>/` objects under a `gs://` URI.

    Args:
        uri: A `gs://bucket/path` folder written by a TFX executor.
        client: A `google.cloud.storage.Client`; None creates one from the pod's credentials.

    Returns:
        The number of markers deleted.
    """
    if client is None:
        from google.cloud import storage

        client = storage.Client()
    bucket, _, path = uri[len(_GCS_SCHEME) :].partition('/')
    prefix = path.rstrip('/') + '/' if path else ''
    deleted = 0
    for blob in client.list_blobs(bucket, prefix=prefix):
        if blob.name.endswith('/') and not blob.size:
            blob.delete()
            deleted += 1
    return deleted


def _output_uris(executor_input: pipeline_spec_pb2.ExecutorInput) -> Iterable[str]:
    for artifact_list in executor_input.outputs.artifacts.values():
        for artifact in artifact_list.artifacts:
            yield artifact.uri


def run(flags: argparse.Namespace, beam_args: list[str]) -> None:
    """Repairs the task's executor input, runs TFX's entry point, cleans the outputs.

    Args:
        flags: This command's flags, as `parse_flags` returns them.
        beam_args: Beam flags, passed on to Beam-based executors.
    """
    executor_input = pipeline_spec_pb2.ExecutorInput()
    json_format.Parse(
        flags.json_serialized_invocation_args, executor_input, ignore_unknown_fields=True
    )
    inputs_spec = pipeline_spec_pb2.ComponentInputsSpec()
    if flags.json_serialized_inputs_spec_args:
        json_format.Parse(flags.json_serialized_inputs_spec_args, inputs_spec)
    outputs_spec = pipeline_spec_pb2.ComponentOutputsSpec()
    if flags.json_serialized_outputs_spec_args:
        json_format.Parse(flags.json_serialized_outputs_spec_args, outputs_spec)

    changed = restore_artifact_types(executor_input, inputs_spec, outputs_spec)
    logging.info('Restored the declared type of %d artifact(s) from the compiled spec', changed)
    if flags.example_gen_driver:
        run_example_gen_driver(executor_input, flags.json_serialized_inputs_spec_args)

    tfx_flags = argparse.Namespace(
        executor_class_path=flags.executor_class_path,
        json_serialized_invocation_args=json_format.MessageToJson(executor_input),
        json_serialized_inputs_spec_args=flags.json_serialized_inputs_spec_args,
    )
    kubeflow_v2_run_executor.main((tfx_flags, beam_args))

    for uri in _output_uris(executor_input):
        if uri.startswith(_GCS_SCHEME):
            count = remove_directory_markers(uri)
            logging.info('Removed %d directory marker(s) under %s', count, uri)


def _main(parsed: tuple[argparse.Namespace, list[str]]) -> None:
    logging.set_verbosity(logging.INFO)
    flags, beam_args = parsed
    logging.info('Task starts in %s with Python %s', os.getcwd(), sys.version.split()[0])
    run(flags, beam_args)


if __name__ == '__main__':
    app.run(_main, flags_parser=lambda argv: parse_flags(argv[1:]))
