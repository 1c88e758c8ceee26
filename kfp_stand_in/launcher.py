"""Runs a compiled pipeline spec task by task, as the Kubeflow Pipelines 2.x backend would.

For tests only. No cluster runs where the tests run, so this module stands in for the
open-source backend's driver and launcher (kubeflow/pipelines, `backend/src/v2/driver` and
`backend/src/v2/component`) and runs each task's container command as a local subprocess, with
the executor input those would hand it. What it reproduces, because the tasks depend on it:

- Executors: container and importer only; any other kind is refused, as the backend's compiler
  refuses it. Container `lifecycle` hooks are ignored: the driver builds the pod from the
  image, command and args alone.
- Parameters: task constants, and pipeline parameters from the run's values or their defaults.
- Output artifacts: URI `<pipeline root>/<task>/<unique id>/<output key>`, type and metadata from
  the component's output definitions. Object stores need no folders; on a local pipeline root
  each output folder is created first.
- Input artifacts as the driver reads them back from ML Metadata: named by their ID, with the
  metadata the producer reported (numbers as doubles, booleans as 0 or 1, lists and structs
  wrapped in `list` and `struct`, a `display_name`) and an empty instance schema, since the
  backend's metadata client does not keep it.
- The launcher's placeholders in the args (`{{$}}`, artifact URIs, parameters, output parameter
  files), and its reading of the output metadata file: URI and metadata merged into the outputs.
- Importers: the URI is registered as the artifact, with the spec's metadata; nothing is copied.

What it leaves out: images and pods (the command runs with the given interpreter in the given
folder), copies of artifacts into the pod and their `.path` placeholders, object stores (a local
folder stands for the bucket), caching, retries, and conditions, loops and placeholders in the
command itself (refused).

Each task still runs in a fresh interpreter, but to keep test runs short, the interpreter of the
next task starts while the current task runs, and imports the module its command names
(`python -m <module>`) and any modules the caller asks to preload; it receives the task's
arguments, and runs the module as `__main__`, once the current task has finished.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from typing import Any

import yaml
from absl import logging
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

_LOG_TAIL_LINES = 40
# Imports the module of a `python -m <module>` command and the preloaded ones, then waits for
# the task's arguments (one JSON line on stdin) and runs the module as `python -m` would.
_WARM_START = """
import importlib, json, runpy, sys
module = sys.argv[1]
for name in sys.argv[1:]:
    importlib.import_module(name)
sys.argv = [module] + json.loads(sys.stdin.readline())
runpy.run_module(module, run_name='__main__', alter_sys=True)
"""


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """How container commands run here, in place of the image.

    Attributes:
        python: The interpreter that runs a command starting with `python`.
        cwd: The folder commands run in, standing for the image's working directory.
        preload: Modules each task's interpreter imports early, with its command's module;
            this only saves time.
    """

    python: str = sys.executable
    cwd: str = '.'
    preload: tuple[str, ...] = ()


class TaskFailedError(RuntimeError):
    """A task's command failed; the message ends with the tail of its log."""


@dataclasses.dataclass
class TaskRun:
    """What one task did.

    Attributes:
        name: The task name.
        seconds: Wall time of the task.
        outputs: Each output artifact as downstream tasks receive it (`name`, `uri`, `metadata`,
            `type`), by output key.
        type_titles: The type each output was recorded under, by output key.
        log_path: The task's combined stdout and stderr; empty for importers.
    """

    name: str
    seconds: float
    outputs: dict[str, dict[str, Any]]
    type_titles: dict[str, str]
    log_path: str = ''


@dataclasses.dataclass
class PipelineRun:
    """The tasks of one run in the order they ran."""

    tasks: dict[str, TaskRun]

    def output(self, task: str, key: str) -> dict[str, Any]:
        """The artifact a task produced under an output key."""
        return self.tasks[task].outputs[key]


def load_spec(spec_path: str) -> dict[str, Any]:
    """Reads a compiled spec and checks it parses as a PipelineSpec, as the API server does."""
    with open(spec_path) as spec_file:
        spec = yaml.safe_load(spec_file)
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    return spec


def dependency_order(tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Task names so that each comes after every task it depends on; ties by name.

    Args:
        tasks: The root DAG's tasks.

    Returns:
        The names in a runnable order.

    Raises:
        ValueError: The dependencies form a cycle or name a missing task.
    """
    upstream = {}
    for name, task in tasks.items():
        producers = {
            source['taskOutputArtifact']['producerTask']
            for source in task.get('inputs', {}).get('artifacts', {}).values()
            if 'taskOutputArtifact' in source
        }
        upstream[name] = set(task.get('dependentTasks', [])) | producers
        missing = upstream[name] - set(tasks)
        if missing:
            raise ValueError(f'task {name} depends on missing task(s) {sorted(missing)}')
    order: list[str] = []
    while len(order) < len(tasks):
        ready = sorted(n for n in tasks if n not in order and upstream[n] <= set(order))
        if not ready:
            raise ValueError(f'tasks {sorted(set(tasks) - set(order))} depend on each other')
        order.append(ready[0])
    return order


class _TaskProcess:
    """The interpreter of one container task, started before its arguments are known."""

    def __init__(self, command: list[str], interpreter: Interpreter, log_path: str) -> None:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        self.log_path = log_path
        # Stays open while the interpreter starts; finish() or cancel() closes it.
        self._log = open(log_path, 'w')
        python = interpreter.python
        self._command = [python if part == 'python' else part for part in command[:1]] + command[1:]
        self._cwd = interpreter.cwd
        self._process = None
        if command[:2] == ['python', '-m'] and len(command) == 3:
            self._process = subprocess.Popen(
                [python, '-c', _WARM_START, command[2], *interpreter.preload],
                cwd=self._cwd,
                stdin=subprocess.PIPE,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                text=True,
            )

    def finish(self, args: list[str]) -> int:
        """Runs the command with its arguments to the end; returns the exit status."""
        try:
            if self._process is None:
                return subprocess.run(
                    self._command + args,
                    cwd=self._cwd,
                    stdout=self._log,
                    stderr=subprocess.STDOUT,
                    check=False,
                ).returncode
            try:
                self._process.stdin.write(json.dumps(args) + '\n')
                self._process.stdin.close()
            except BrokenPipeError:
                pass  # The module failed to import; its error is in the log.
            return self._process.wait()
        finally:
            self._log.close()

    def cancel(self) -> None:
        """Stops an interpreter whose task will not run, and removes its empty log."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self._log.close()
        os.remove(self.log_path)


def _stored_value(value: Any) -> Any:
    """A metadata value after the backend stored it in ML Metadata and read it back."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, list):
        return {'list': value}
    if isinstance(value, dict):
        return {'struct': value}
    return value


def _type_title(artifact_type: Mapping[str, str]) -> str:
    if 'schemaTitle' in artifact_type:
        return artifact_type['schemaTitle']
    return yaml.safe_load(artifact_type.get('instanceSchema') or '{}').get('title', '')


class _StandIn:
    """Runs the tasks of one spec, keeping the artifacts they produce."""

    def __init__(
        self,
        spec: dict[str, Any],
        pipeline_root: str,
        work_dir: str,
        parameters: Mapping[str, Any],
        interpreter: Interpreter,
    ) -> None:
        self._spec = spec
        self._pipeline_root = pipeline_root
        self._work_dir = work_dir
        self._interpreter = interpreter
        self._ids = itertools.count(1)
        self._runs: dict[str, TaskRun] = {}
        self._started: dict[str, _TaskProcess] = {}
        self._parameters = {}
        for name, definition in (
            spec['root'].get('inputDefinitions', {}).get('parameters', {}).items()
        ):
            if name in parameters:
                self._parameters[name] = parameters[name]
            elif 'defaultValue' in definition:
                self._parameters[name] = definition['defaultValue']
            else:
                raise ValueError(f'pipeline parameter {name} has no value and no default')
        unknown = set(parameters) - set(self._parameters)
        if unknown:
            raise ValueError(f'the pipeline has no parameter(s) {sorted(unknown)}')

    def run(self) -> PipelineRun:
        tasks = self._spec['root']['dag']['tasks']
        order = dependency_order(tasks)
        try:
            for position, name in enumerate(order, start=1):
                if position < len(order):
                    self._start(order[position])
                started = time.monotonic()
                self._runs[name] = self._run_task(name, tasks[name])
                self._runs[name].seconds = time.monotonic() - started
                logging.info(
                    '[%d/%d] %s: done in %.1f s',
                    position,
                    len(order),
                    name,
                    self._runs[name].seconds,
                )
        finally:
            for process in self._started.values():
                process.cancel()
        return PipelineRun(tasks=dict(self._runs))

    def _container(self, name: str) -> Mapping[str, Any] | None:
        task = self._spec['root']['dag']['tasks'][name]
        component = self._spec['components'][task['componentRef']['name']]
        return self._spec['deploymentSpec']['executors'][component['executorLabel']].get(
            'container'
        )

    def _start(self, name: str) -> _TaskProcess | None:
        """Starts the interpreter of a container task, unless it runs no container."""
        container = self._container(name)
        if container is None:
            return None
        if any('{{' in part for part in container.get('command', [])):
            raise NotImplementedError(f'task {name}: placeholders in the command, not the args')
        if name not in self._started:
            log_path = os.path.join(self._work_dir, name, 'task.log')
            self._started[name] = _TaskProcess(
                list(container.get('command', [])), self._interpreter, log_path
            )
        return self._started[name]

    def _run_task(self, name: str, task: dict[str, Any]) -> TaskRun:
        for unsupported in (
            'triggerPolicy',
            'iteratorPolicy',
            'artifactIterator',
            'parameterIterator',
        ):
            if unsupported in task:
                raise NotImplementedError(f'task {name}: the stand-in does not run {unsupported}')
        component = self._spec['components'][task['componentRef']['name']]
        executor = self._spec['deploymentSpec']['executors'][component['executorLabel']]
        parameters = self._input_parameters(name, task)
        if 'importer' in executor:
            return self._import(name, component, executor['importer'], parameters)
        if 'container' not in executor:
            raise ValueError(
                f'executor of task {name}: non-container and non-importer executor not implemented'
            )
        if 'lifecycle' in executor['container']:
            logging.warning('Task %s: ignoring its lifecycle hook, as the backend does', name)
        return self._run_container(name, task, component, executor['container'], parameters)

    def _input_parameters(self, name: str, task: Mapping[str, Any]) -> dict[str, Any]:
        values = {}
        for key, source in task.get('inputs', {}).get('parameters', {}).items():
            if 'runtimeValue' in source:
                values[key] = source['runtimeValue']['constant']
            elif 'componentInputParameter' in source:
                values[key] = self._parameters[source['componentInputParameter']]
            else:
                raise NotImplementedError(f'task {name}: parameter {key} from {source}')
        return values

    def _record(self, artifact: dict[str, Any], key: str) -> dict[str, Any]:
        """The artifact as the backend stores it and hands it to downstream tasks."""
        metadata = {k: _stored_value(v) for k, v in artifact.get('metadata', {}).items()}
        metadata.setdefault('display_name', key)
        return {
            'name': str(next(self._ids)),
            'uri': artifact['uri'],
            'metadata': metadata,
            'type': {'instanceSchema': ''},
        }

    def _import(
        self,
        name: str,
        component: Mapping[str, Any],
        importer: Mapping[str, Any],
        parameters: Mapping[str, Any],
    ) -> TaskRun:
        source = importer['artifactUri']
        uri = source['constant'] if 'constant' in source else parameters[source['runtimeParameter']]
        (key,) = component['outputDefinitions']['artifacts']
        artifact = {'uri': uri, 'metadata': dict(importer.get('metadata', {}))}
        return TaskRun(
            name=name,
            seconds=0.0,
            outputs={key: self._record(artifact, key)},
            type_titles={key: _type_title(importer['typeSchema'])},
        )

    def _executor_input(
        self, name: str, task: Mapping[str, Any], component: Mapping[str, Any], parameters: dict
    ) -> dict[str, Any]:
        artifacts = {}
        for key, source in task.get('inputs', {}).get('artifacts', {}).items():
            producer = source['taskOutputArtifact']
            artifact = self._runs[producer['producerTask']].outputs[producer['outputArtifactKey']]
            artifacts[key] = {'artifacts': [artifact]}

        task_dir = os.path.join(self._work_dir, name)
        outputs: dict[str, Any] = {'artifacts': {}, 'parameters': {}}
        unique = uuid.uuid4().hex
        for key, definition in component.get('outputDefinitions', {}).get('artifacts', {}).items():
            uri = f'{self._pipeline_root.rstrip("/")}/{name}/{unique}/{key}'
            if '://' not in uri:
                os.makedirs(uri, exist_ok=True)
            output = {'uri': uri, 'type': definition['artifactType']}
            if definition.get('metadata'):
                output['metadata'] = definition['metadata']
            outputs['artifacts'][key] = {'artifacts': [output]}
        for key in component.get('outputDefinitions', {}).get('parameters', {}):
            outputs['parameters'][key] = {'outputFile': os.path.join(task_dir, 'outputs', key)}
        outputs['outputFile'] = os.path.join(task_dir, 'output_metadata.json')
        executor_input = {
            'inputs': {'parameterValues': parameters, 'artifacts': artifacts},
            'outputs': outputs,
        }
        json_format.ParseDict(executor_input, pipeline_spec_pb2.ExecutorInput())
        return executor_input

    def _run_container(
        self,
        name: str,
        task: Mapping[str, Any],
        component: Mapping[str, Any],
        container: Mapping[str, Any],
        parameters: dict[str, Any],
    ) -> TaskRun:
        executor_input = self._executor_input(name, task, component, parameters)
        replacements = _placeholders(executor_input)
        args = [_substitute(part, replacements) for part in container.get('args', [])]

        process = self._start(name)
        del self._started[name]
        status = process.finish(args)
        log_path = process.log_path
        if status != 0:
            with open(log_path) as log:
                tail = ''.join(log.readlines()[-_LOG_TAIL_LINES:])
            raise TaskFailedError(f'task {name} exited with status {status}:\n{tail}')

        reported = _read_executor_output(executor_input['outputs']['outputFile'])
        outputs, titles = {}, {}
        for key, artifact_list in executor_input['outputs']['artifacts'].items():
            artifact = dict(artifact_list['artifacts'][0])
            if reported.get(key):
                merged = reported[key]
                artifact['uri'] = merged.get('uri') or artifact['uri']
                artifact['metadata'] = {
                    **artifact.get('metadata', {}),
                    **merged.get('metadata', {}),
                }
            outputs[key] = self._record(artifact, key)
            titles[key] = _type_title(artifact['type'])
        return TaskRun(
            name=name, seconds=0.0, outputs=outputs, type_titles=titles, log_path=log_path
        )


def _placeholders(executor_input: Mapping[str, Any]) -> dict[str, str]:
    """The launcher's placeholders and their values for one task."""
    values = {'{{$}}': json.dumps(executor_input)}
    for key, artifact_list in executor_input['inputs']['artifacts'].items():
        values[f"{{{{$.inputs.artifacts['{key}'].uri}}}}"] = artifact_list['artifacts'][0]['uri']
    for key, artifact_list in executor_input['outputs']['artifacts'].items():
        values[f"{{{{$.outputs.artifacts['{key}'].uri}}}}"] = artifact_list['artifacts'][0]['uri']
    for key, value in executor_input['inputs']['parameterValues'].items():
        text = value if isinstance(value, str) else json.dumps(value)
        values[f"{{{{$.inputs.parameters['{key}']}}}}"] = text
    for key, parameter in executor_input['outputs']['parameters'].items():
        values[f"{{{{$.outputs.parameters['{key}'].output_file}}}}"] = parameter['outputFile']
    return values


def _substitute(text: str, replacements: Mapping[str, str]) -> str:
    for placeholder, value in replacements.items():
        text = text.replace(placeholder, value)
    return text


def _read_executor_output(path: str) -> dict[str, dict[str, Any]]:
    """The first artifact of each key in the task's output metadata file, if it wrote one."""
    if not os.path.exists(path):
        return {}
    with open(path) as output_file:
        executor_output = json_format.Parse(
            output_file.read(), pipeline_spec_pb2.ExecutorOutput(), ignore_unknown_fields=True
        )
    reported = json_format.MessageToDict(executor_output)
    return {
        key: artifact_list['artifacts'][0]
        for key, artifact_list in reported.get('artifacts', {}).items()
        if artifact_list.get('artifacts')
    }


def run_pipeline_spec(
    spec: dict[str, Any],
    pipeline_root: str,
    work_dir: str,
    parameters: Mapping[str, Any] | None = None,
    interpreter: Interpreter | None = None,
) -> PipelineRun:
    """Runs every task of a compiled spec in dependency order, stopping at the first failure.

    Args:
        spec: The compiled pipeline spec, as `load_spec` returns it.
        pipeline_root: Root of the output artifacts (a local folder here).
        work_dir: Folder for each task's log and output metadata file.
        parameters: Values of pipeline parameters; the others take their defaults.
        interpreter: How the container commands run; defaults to this interpreter, in the
            current folder.

    Returns:
        What each task did and produced.

    Raises:
        TaskFailedError: A task's command exited with an error.
        ValueError: The spec holds an executor the backend would refuse, or bad parameters.
    """
    interpreter = interpreter or Interpreter(cwd=os.getcwd())
    return _StandIn(spec, pipeline_root, work_dir, parameters or {}, interpreter).run()
