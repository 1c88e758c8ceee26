"""The task entry point's repairs for the open-source backend, one by one."""

import dataclasses

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2

from dataprep.digit_set import DigitSet
from dataprep.spans import write_span
from runners import kubeflow_entrypoint

EXAMPLES_SCHEMA = 'title: tfx.Examples\ntype: object\n'
MODEL_SCHEMA = 'title: tfx.Model\ntype: object\n'


def _artifact_list(uri, artifact_type):
    return {'artifacts': [{'name': '7', 'uri': uri, 'type': artifact_type}]}


def test_artifact_types_lost_by_the_backend_are_restored_from_the_component(tmp_path):
    executor_input = json_format.ParseDict(
        {
            'inputs': {
                'artifacts': {
                    'examples': _artifact_list('gs://b/e', {'instanceSchema': ''}),
                    'model': _artifact_list('gs://b/m', {'schemaTitle': 'system.Model'}),
                }
            },
            'outputs': {
                'artifacts': {'blessing': _artifact_list('gs://b/o', {'schemaTitle': 'tfx.X'})},
                'outputFile': str(tmp_path / 'out.json'),
            },
        },
        pipeline_spec_pb2.ExecutorInput(),
    )
    inputs_spec = json_format.ParseDict(
        {
            'artifacts': {
                'examples': {'artifactType': {'instanceSchema': EXAMPLES_SCHEMA}},
                'model': {'artifactType': {'instanceSchema': MODEL_SCHEMA}},
            }
        },
        pipeline_spec_pb2.ComponentInputsSpec(),
    )
    outputs_spec = json_format.ParseDict(
        {
            'artifacts': {
                'blessing': {'artifactType': {'instanceSchema': 'title: tfx.ModelBlessing'}}
            }
        },
        pipeline_spec_pb2.ComponentOutputsSpec(),
    )

    changed = kubeflow_entrypoint.restore_artifact_types(executor_input, inputs_spec, outputs_spec)

    assert changed == 3
    inputs = executor_input.inputs.artifacts
    assert inputs['examples'].artifacts[0].type.instance_schema == EXAMPLES_SCHEMA
    assert inputs['model'].artifacts[0].type.instance_schema == MODEL_SCHEMA
    assert inputs['model'].artifacts[0].uri == 'gs://b/m'
    blessing = executor_input.outputs.artifacts['blessing'].artifacts[0]
    assert blessing.type.instance_schema == 'title: tfx.ModelBlessing'
    assert (
        kubeflow_entrypoint.restore_artifact_types(executor_input, inputs_spec, outputs_spec) == 0
    )


def test_own_flags_are_taken_and_beam_flags_passed_on_in_order():
    flags, beam_args = kubeflow_entrypoint.parse_flags(
        [
            '--executor_class_path',
            'a.B',
            '--json_serialized_invocation_args',
            '{}',
            '--runner=DirectRunner',
            '--example_gen_driver',
            '--direct_num_workers=2',
        ]
    )

    assert flags.executor_class_path == 'a.B'
    assert flags.example_gen_driver is True
    assert flags.json_serialized_outputs_spec_args == ''
    assert beam_args == ['--runner=DirectRunner', '--direct_num_workers=2']


@dataclasses.dataclass
class _Blob:
    name: str
    size: int
    deleted: bool = False

    def delete(self):
        self.deleted = True


class _Storage:
    """Stands in for google.cloud.storage.Client: lists blobs under a prefix of one bucket."""

    def __init__(self, blobs):
        self.blobs = blobs
        self.listed = []

    def list_blobs(self, bucket, prefix):
        self.listed.append((bucket, prefix))
        return [blob for blob in self.blobs if blob.name.startswith(prefix)]


def test_only_zero_byte_folder_markers_under_the_output_are_deleted():
    blobs = [
        _Blob('root/Trainer/1/model/', 0),
        _Blob('root/Trainer/1/model/Format-Serving/', 0),
        _Blob('root/Trainer/1/model/Format-Serving/saved_model.pb', 5120),
        _Blob('root/Trainer/1/model/Format-Serving/assets/empty.txt', 0),
        _Blob('root/Trainer/1/model_run/', 0),
    ]
    storage = _Storage(blobs)

    deleted = kubeflow_entrypoint.remove_directory_markers('gs://bkt/root/Trainer/1/model', storage)

    assert deleted == 2
    assert storage.listed == [('bkt', 'root/Trainer/1/model/')]
    assert [blob.name for blob in blobs if blob.deleted] == [
        'root/Trainer/1/model/',
        'root/Trainer/1/model/Format-Serving/',
    ]


def test_example_gen_driver_resolves_the_newest_span_without_the_lifecycle_hook(
    compiled, digits, tmp_path
):
    spec, _, _ = compiled
    images, labels = digits
    data_root = str(tmp_path / 'data')
    for span, rows in ((1, slice(0, 40)), (2, slice(40, 90))):
        write_span(
            DigitSet(images[rows].reshape(-1, 8, 8), labels[rows], 'digits'), data_root, span
        )
    task = spec['root']['dag']['tasks']['ImportExampleGen']
    component = spec['components']['ImportExampleGen']
    container = spec['deploymentSpec']['executors'][component['executorLabel']]['container']
    flags, _ = kubeflow_entrypoint.parse_flags(container['args'])
    parameters = {k: v['runtimeValue']['constant'] for k, v in task['inputs']['parameters'].items()}
    parameters['input_base'] = data_root
    output_type = component['outputDefinitions']['artifacts']['examples']['artifactType']
    executor_input = json_format.ParseDict(
        {
            'inputs': {'parameterValues': parameters},
            'outputs': {
                'artifacts': {'examples': _artifact_list(str(tmp_path / 'examples'), output_type)},
                'outputFile': str(tmp_path / 'task' / 'output_metadata.json'),
            },
        },
        pipeline_spec_pb2.ExecutorInput(),
    )

    kubeflow_entrypoint.run_example_gen_driver(
        executor_input, flags.json_serialized_inputs_spec_args
    )

    metadata = json_format.MessageToDict(executor_input.outputs.artifacts['examples'].artifacts[0])
    assert metadata['metadata']['span'] == 2
    assert 'custom:span' not in metadata['metadata']
    assert 'num_files:1' in metadata['metadata']['input_fingerprint']
    with open(tmp_path / 'task' / 'output_metadata.json') as output_file:
        handed_on = json_format.Parse(output_file.read(), pipeline_spec_pb2.ExecutorOutput())
    assert handed_on.parameter_values['span'].number_value == 2
    assert 'span-2/*.tfrecord.gz' in handed_on.parameter_values['input_config'].string_value
