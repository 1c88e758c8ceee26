"""Compiles the pipeline for the open-source Kubeflow Pipelines 2.x backend, and submits it.

    python -m runners.kubeflow_runner --image REGISTRY/tfx-digits:0.1.0
        --data-root gs://BUCKET/data/digits --schema-dir gs://BUCKET/schema/digits
        --pipeline-root gs://BUCKET/pipelines --serving-root gs://BUCKET/serving
        [--submit --kfp-endpoint URL [--kfp-namespace NS] [--kfp-experiment NAME]]

The same `create_pipeline` the local runner uses goes to TFX's `KubeflowV2DagRunner`; this file
only chooses the image, the storage roots and the run-time parameters, then adapts what TFX
emits for Vertex AI to what the open-source backend runs (see `adapt_for_open_source_backend`).
Every pipeline setting is a flag or a `DIGITS_<NAME>` variable, as for the local runner; the
Kubeflow settings are described in `KubeflowSettings`. Exit status: 0 when compiled (and
submitted), 2 for a setting that cannot work, such as `--submit` without an endpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml
from absl import logging
from tfx import v1 as tfx
from tfx import version as tfx_version
from tfx.orchestration.kubeflow.v2 import kubeflow_v2_dag_runner

from pipeline import config as config_lib
from pipeline.pipeline import create_pipeline
from runners import kubeflow_entrypoint

ENTRYPOINT_COMMAND = ('python', '-m', 'runners.kubeflow_entrypoint')
# The hook TFX puts on file-based ExampleGens; the entry point runs the same driver instead.
_EXAMPLE_GEN_DRIVER_MODULE = 'tfx.orchestration.kubeflow.v2.file_based_example_gen.driver'
_INPUTS_SPEC_FLAG = '--json_serialized_inputs_spec_args'


class SettingError(ValueError):
    """A setting that cannot work; the message says which and what to do instead."""


@dataclasses.dataclass(frozen=True)
class KubeflowSettings:
    """Where the compiled pipeline goes and which cluster runs it.

    Each field is a flag `--<field>` (dashes for underscores) and an environment variable
    `DIGITS_<FIELD>`; the flag wins.

    Attributes:
        image: The pipeline image every task runs (see the Dockerfile); a registry path the
            cluster can pull, with a tag.
        spec_path: Where the compiled pipeline spec (YAML) is written.
        kfp_endpoint: Kubeflow Pipelines API endpoint, e.g. http://localhost:8080 after
            `kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`; needed to submit.
        kfp_namespace: Kubernetes namespace of the runs and experiment (the profile namespace
            of a multi-user Kubeflow); empty means the client's default.
        kfp_experiment: Experiment the runs are filed under; created on first use. Empty means
            the pipeline name.
    """

    image: str = 'tfx-digits:0.1.0'
    spec_path: str = os.path.join('build', 'kubeflow', 'pipeline.yaml')
    kfp_endpoint: str = ''
    kfp_namespace: str = ''
    kfp_experiment: str = ''


def parse_args(
    argv: Sequence[str], env: Mapping[str, str] | None = None
) -> tuple[config_lib.PipelineConfig, KubeflowSettings, bool]:
    """Reads the pipeline config, the Kubeflow settings and whether to submit.

    Args:
        argv: Command-line arguments without the program name.
        env: Environment variables; defaults to the process environment.

    Returns:
        The pipeline config, the Kubeflow settings, and True when `--submit` was given.
    """
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    config_lib.add_config_flags(parser)
    for field in dataclasses.fields(KubeflowSettings):
        parser.add_argument('--' + field.name.replace('_', '-'), dest=field.name)
    parser.add_argument('--submit', action='store_true', help='upload the spec and start a run')
    args = parser.parse_args(argv)

    values = {}
    for field in dataclasses.fields(KubeflowSettings):
        value = getattr(args, field.name)
        if value is None:
            value = env.get(config_lib.ENV_PREFIX + field.name.upper()) or None
        if value is not None:
            values[field.name] = value
    return config_lib.config_from_namespace(args, env), KubeflowSettings(**values), args.submit


def runtime_parameter_defaults(pipeline: tfx.dsl.Pipeline) -> dict[str, Any]:
    """The default of every TFX run-time parameter the pipeline's nodes use, by name."""
    defaults = {}
    for node in pipeline.components:
        for value in node.exec_properties.values():
            if isinstance(value, tfx.dsl.experimental.RuntimeParameter):
                defaults[value.name] = value.default
    return defaults


def _executor_of(spec: dict[str, Any], task: dict[str, Any]) -> dict[str, Any]:
    component = spec['components'][task['componentRef']['name']]
    return spec['deploymentSpec']['executors'][component['executorLabel']]


def _move_example_gen_hook(container: dict[str, Any], task_name: str) -> None:
    """Replaces TFX's pre-cache-check hook by the entry point's driver flag, or refuses."""
    hook = container.pop('lifecycle')
    command = hook.get('preCacheCheck', {}).get('command', [])
    if _EXAMPLE_GEN_DRIVER_MODULE not in command:
        raise SettingError(
            f'task {task_name} has a lifecycle hook {hook} that the open-source backend would '
            'ignore and that this runner does not know how to move into the task'
        )
    container['args'].append(kubeflow_entrypoint.EXAMPLE_GEN_DRIVER_FLAG)


def adapt_for_open_source_backend(
    spec: dict[str, Any], parameter_defaults: Mapping[str, Any], pipeline_root: str
) -> None:
    """Makes the spec TFX compiles use only what the open-source backend runs.

    What the backend does with what TFX emits, and what changes here:

    - Container and importer executors run (compiler/argocompiler); anything else, such as
      the resolver executor a TFX `Resolver` compiles to, is rejected at upload. Checked here.
    - `lifecycle.preCacheCheck` is never read (the driver builds the pod from image, command
      and args alone). TFX's ExampleGen span resolution lives there: it moves into the task's
      own command, and the task is never cached, since the backend would reuse the last
      output before any code could notice a new span.
    - The run-time config TFX writes beside the spec (pipeline root, parameter values) is not
      part of the YAML: the pipeline root becomes `defaultPipelineRoot` and each run-time
      parameter gets its default, so the UI shows and pre-fills it.
    - Artifact types are lost between tasks: each container also gets its component's output
      definitions, so the entry point can restore output types as it restores input types.

    Args:
        spec: The compiled pipeline spec as a dict, changed in place.
        parameter_defaults: Default value of each run-time parameter, by name.
        pipeline_root: Root URI of the pipeline's artifacts.

    Raises:
        SettingError: The spec holds an executor or hook the backend cannot run.
    """
    spec['defaultPipelineRoot'] = pipeline_root
    for name, parameter in spec['root'].get('inputDefinitions', {}).get('parameters', {}).items():
        parameter['defaultValue'] = parameter_defaults[name]
        parameter['isOptional'] = True

    for task_name, task in spec['root']['dag']['tasks'].items():
        executor = _executor_of(spec, task)
        if 'importer' in executor:
            continue
        if 'container' not in executor:
            raise SettingError(
                f'task {task_name} compiles to a {", ".join(executor)} executor; the open-source '
                'backend runs container and importer executors only'
            )
        container = executor['container']
        if 'lifecycle' in container:
            _move_example_gen_hook(container, task_name)
            task['cachingOptions'] = {'enableCache': False}
        outputs = spec['components'][task['componentRef']['name']].get('outputDefinitions', {})
        position = container['args'].index(_INPUTS_SPEC_FLAG) + 2
        container['args'][position:position] = [
            kubeflow_entrypoint.OUTPUTS_SPEC_FLAG,
            json.dumps(outputs, indent=2, sort_keys=True),
        ]


def compile_pipeline(
    config: config_lib.PipelineConfig, image: str, spec_path: str
) -> dict[str, Any]:
    """Compiles the pipeline into a spec file the open-source backend can upload.

    Args:
        config: The pipeline's settings; the roots should be URIs every task can read.
        image: The pipeline image every task runs.
        spec_path: Where to write the spec (YAML).

    Returns:
        The pipeline spec as written.
    """
    pipeline = create_pipeline(config, runtime_parameters=True)
    runner = kubeflow_v2_dag_runner.KubeflowV2DagRunner(
        kubeflow_v2_dag_runner.KubeflowV2DagRunnerConfig(
            default_image=image,
            default_commands=list(ENTRYPOINT_COMMAND),
            use_pipeline_spec_2_1=True,
        )
    )
    spec = runner.run(pipeline, write_out=False)['pipelineSpec']
    adapt_for_open_source_backend(spec, runtime_parameter_defaults(pipeline), config.pipeline_root)

    os.makedirs(os.path.dirname(os.path.abspath(spec_path)), exist_ok=True)
    with open(spec_path, 'w') as spec_file:
        spec_file.write(
            f'# Pipeline {config.pipeline_name!r} for the open-source Kubeflow Pipelines 2.x '
            f'backend, compiled by runners/kubeflow_runner.py with tfx-{tfx_version.__version__}.\n'
        )
        yaml.safe_dump(spec, spec_file, sort_keys=True)
    tasks = spec['root']['dag']['tasks']
    logging.info(
        'Compiled %d tasks and %d run-time parameters (%s) for image %s into %s',
        len(tasks),
        len(spec['root'].get('inputDefinitions', {}).get('parameters', {})),
        ', '.join(sorted(spec['root'].get('inputDefinitions', {}).get('parameters', {}))),
        image,
        spec_path,
    )
    return spec


def local_paths(config: config_lib.PipelineConfig) -> list[str]:
    """The roots of the config that are local paths, which tasks in a cluster cannot read."""
    names = ('data_root', 'schema_dir', 'pipeline_root', 'serving_root')
    return [
        f'{name}={getattr(config, name)}' for name in names if '://' not in getattr(config, name)
    ]


def check_submittable(config: config_lib.PipelineConfig, settings: KubeflowSettings) -> None:
    """Refuses to submit without an endpoint or with roots a cluster cannot read.

    Args:
        config: The pipeline's settings.
        settings: The Kubeflow settings.

    Raises:
        SettingError: No endpoint is set, or a root is a local path.
    """
    if not settings.kfp_endpoint:
        raise SettingError(
            'no Kubeflow Pipelines endpoint to submit to: pass --kfp-endpoint or set '
            'DIGITS_KFP_ENDPOINT (e.g. http://localhost:8080 after '
            '`kubectl port-forward -n kubeflow svc/ml-pipeline-ui 8080:80`)'
        )
    if local_paths(config):
        raise SettingError(
            f'{", ".join(local_paths(config))}: tasks in the cluster cannot read local paths; '
            'give gs:// URIs'
        )


def submit(
    spec_path: str,
    config: config_lib.PipelineConfig,
    settings: KubeflowSettings,
    client_factory: Callable[..., Any] | None = None,
) -> str:
    """Uploads the spec as a new pipeline version, files a run in the experiment, starts it.

    Args:
        spec_path: The compiled spec.
        config: The pipeline's settings (name and pipeline root).
        settings: Endpoint, namespace and experiment.
        client_factory: Builds the Kubeflow Pipelines client; defaults to `kfp.Client`.

    Returns:
        The run ID.

    Raises:
        SettingError: No endpoint is set, or a root is a local path.
    """
    check_submittable(config, settings)
    if client_factory is None:
        import kfp

        client_factory = kfp.Client
    namespace = settings.kfp_namespace or None
    client = client_factory(host=settings.kfp_endpoint, namespace=namespace or 'kubeflow')

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%d-%H%M%S')
    name = config.pipeline_name
    pipeline_id = client.get_pipeline_id(name)
    if pipeline_id is None:
        pipeline_id = client.upload_pipeline(spec_path, pipeline_name=name).pipeline_id
        versions = client.list_pipeline_versions(pipeline_id, sort_by='created_at desc')
        version_id = versions.pipeline_versions[0].pipeline_version_id
    else:
        version = client.upload_pipeline_version(
            spec_path, pipeline_version_name=f'{name}-{stamp}', pipeline_id=pipeline_id
        )
        version_id = version.pipeline_version_id

    experiment = client.create_experiment(settings.kfp_experiment or name, namespace=namespace)
    run = client.run_pipeline(
        experiment_id=experiment.experiment_id,
        job_name=f'{name}-{stamp}',
        pipeline_id=pipeline_id,
        version_id=version_id,
        pipeline_root=config.pipeline_root,
    )
    logging.info(
        'Started run %s of pipeline %s version %s in experiment %s at %s',
        run.run_id,
        pipeline_id,
        version_id,
        experiment.experiment_id,
        settings.kfp_endpoint,
    )
    return run.run_id


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: compiles, and submits when asked; returns the exit status."""
    logging.set_verbosity(logging.INFO)
    config, settings, do_submit = parse_args(sys.argv[1:] if argv is None else argv)
    for path in local_paths(config):
        logging.warning('%s is a local path: give a gs:// URI before running on a cluster', path)
    try:
        if do_submit:
            check_submittable(config, settings)
        compile_pipeline(config, settings.image, settings.spec_path)
        if do_submit:
            submit(settings.spec_path, config, settings)
    except SettingError as error:
        logging.error('%s', error)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
