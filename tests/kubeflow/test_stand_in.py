"""The launcher stand-in reproduces what the backend does between tasks, on a two-task spec."""

import copy
import json

import pytest

from kfp_stand_in import launcher

PRODUCE = """
import json, os, sys
executor_input = json.loads(sys.argv[1])
out = executor_input['outputs']['artifacts']['out']['artifacts'][0]
with open(os.path.join(out['uri'], 'data.txt'), 'w') as data:
    data.write('digits')
reported = {'uri': out['uri'], 'metadata': {'span': 2, 'split_names': '["a"]', 'flags': [1, 2]}}
with open(executor_input['outputs']['outputFile'], 'w') as output_file:
    json.dump({'artifacts': {'out': {'artifacts': [reported]}}}, output_file)
"""
CONSUME = """
import json, sys
print(json.dumps({'input': json.loads(sys.argv[1])['inputs'], 'n': sys.argv[2]}))
"""
SCHEMA = 'title: tfx.Examples\ntype: object\n'


def _spec():
    return {
        'pipelineInfo': {'name': 'two-tasks'},
        'schemaVersion': '2.1.0',
        'root': {
            'inputDefinitions': {
                'parameters': {'n': {'parameterType': 'NUMBER_INTEGER', 'defaultValue': 3}}
            },
            'dag': {
                'tasks': {
                    'consume': {
                        'componentRef': {'name': 'consume'},
                        'taskInfo': {'name': 'consume'},
                        'inputs': {
                            'artifacts': {
                                'inp': {
                                    'taskOutputArtifact': {
                                        'producerTask': 'produce',
                                        'outputArtifactKey': 'out',
                                    }
                                }
                            },
                            'parameters': {'n': {'componentInputParameter': 'n'}},
                        },
                    },
                    'produce': {
                        'componentRef': {'name': 'produce'},
                        'taskInfo': {'name': 'produce'},
                    },
                }
            },
        },
        'components': {
            'produce': {
                'executorLabel': 'exec-produce',
                'outputDefinitions': {
                    'artifacts': {'out': {'artifactType': {'instanceSchema': SCHEMA}}}
                },
            },
            'consume': {
                'executorLabel': 'exec-consume',
                'inputDefinitions': {
                    'artifacts': {'inp': {'artifactType': {'instanceSchema': SCHEMA}}},
                    'parameters': {'n': {'parameterType': 'NUMBER_INTEGER'}},
                },
            },
        },
        'deploymentSpec': {
            'executors': {
                'exec-produce': {
                    'container': {
                        'image': 'any',
                        'command': ['python', '-c', PRODUCE],
                        'args': ['{{$}}'],
                        'lifecycle': {'preCacheCheck': {'command': ['false']}},
                    }
                },
                'exec-consume': {
                    'container': {
                        'image': 'any',
                        'command': ['python', '-c', CONSUME],
                        'args': ['{{$}}', "{{$.inputs.parameters['n']}}"],
                    }
                },
            }
        },
    }


def _consumed(run):
    with open(run.tasks['consume'].log_path) as log:
        return json.loads(log.read().strip().splitlines()[-1])


def test_tasks_run_in_dependency_order_whatever_their_names():
    tasks = _spec()['root']['dag']['tasks']

    assert launcher.dependency_order(tasks) == ['produce', 'consume']


def test_a_dependency_cycle_is_refused():
    tasks = _spec()['root']['dag']['tasks']
    tasks['produce']['dependentTasks'] = ['consume']

    with pytest.raises(ValueError, match='depend on each other'):
        launcher.dependency_order(tasks)


def test_downstream_tasks_get_artifacts_as_the_backend_stores_them(tmp_path):
    run = launcher.run_pipeline_spec(_spec(), str(tmp_path / 'root'), str(tmp_path / 'work'))

    produced = run.output('produce', 'out')
    (received,) = _consumed(run)['input']['artifacts']['inp']['artifacts']
    assert produced['uri'].startswith(str(tmp_path / 'root' / 'produce'))
    assert (tmp_path / 'root').joinpath(produced['uri'], 'data.txt').read_text() == 'digits'
    assert received['type'] == {'instanceSchema': ''}
    assert received['name'] == produced['name']
    assert received['metadata'] == {
        'span': 2.0,
        'split_names': '["a"]',
        'flags': {'list': [1.0, 2.0]},
        'display_name': 'out',
    }
    assert run.tasks['produce'].type_titles == {'out': 'tfx.Examples'}


def test_pipeline_parameters_take_run_values_over_defaults(tmp_path):
    defaults = launcher.run_pipeline_spec(_spec(), str(tmp_path / 'a'), str(tmp_path / 'wa'))
    given = launcher.run_pipeline_spec(
        _spec(), str(tmp_path / 'b'), str(tmp_path / 'wb'), parameters={'n': 5}
    )

    assert _consumed(defaults)['n'] == '3'
    assert _consumed(given)['n'] == '5'
    with pytest.raises(ValueError, match=r"no parameter\(s\) \['m'\]"):
        launcher.run_pipeline_spec(_spec(), str(tmp_path), str(tmp_path), parameters={'m': 1})


def test_an_executor_the_backend_cannot_run_is_refused(tmp_path):
    spec = _spec()
    spec['deploymentSpec']['executors']['exec-produce'] = {'resolver': {}}

    with pytest.raises(ValueError, match='non-container and non-importer executor'):
        launcher.run_pipeline_spec(spec, str(tmp_path / 'root'), str(tmp_path / 'work'))


def test_a_failing_task_stops_the_run_with_the_end_of_its_log(tmp_path):
    spec = copy.deepcopy(_spec())
    spec['deploymentSpec']['executors']['exec-produce']['container']['command'] = [
        'python',
        '-c',
        'raise SystemExit("no data in the data root")',
    ]

    with pytest.raises(launcher.TaskFailedError, match='no data in the data root'):
        launcher.run_pipeline_spec(spec, str(tmp_path / 'root'), str(tmp_path / 'work'))
    assert not (tmp_path / 'work' / 'consume' / 'task.log').exists()
