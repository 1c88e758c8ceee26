"""`python -m serving` picks its backend and builds TF Serving's command line correctly."""

import pytest
from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from serving import tf_serving
from serving.__main__ import choose_backend, parse_flags
from serving.options import ServingOptions, options_from_namespace


def test_defaults_listen_on_loopback_port_8501_and_log_predictions():
    options = options_from_namespace(parse_flags(['serving']))

    assert options == ServingOptions()
    assert (options.host, options.port, options.prediction_log) == ('127.0.0.1', 8501, True)
    assert options.poll_interval_s == 2.0


def test_flags_override_serving_options_and_pipeline_paths():
    args = parse_flags(
        [
            'serving',
            '--port',
            '9000',
            '--poll-interval',
            '0.5',
            '--no-prediction-log',
            '--max-batch-rows',
            '32',
            '--serving-root',
            '/srv/models',
            '--model-name',
            'mnist',
        ]
    )

    options = options_from_namespace(args)
    assert (options.port, options.poll_interval_s, options.max_batch_rows) == (9000, 0.5, 32)
    assert options.prediction_log is False
    assert (args.serving_root, args.model_name) == ('/srv/models', 'mnist')


@pytest.mark.parametrize(
    'backend, binary, chosen',
    [
        ('auto', '/usr/bin/tensorflow_model_server', 'tf-serving'),
        ('auto', None, 'stand-in'),
        ('stand-in', '/usr/bin/tensorflow_model_server', 'stand-in'),
        ('tf-serving', '/usr/bin/tensorflow_model_server', 'tf-serving'),
    ],
)
def test_backend_is_tf_serving_where_installed_unless_forced(backend, binary, chosen):
    assert choose_backend(ServingOptions(backend=backend), binary) == chosen


def test_forcing_tf_serving_without_the_binary_stops_with_a_message():
    with pytest.raises(SystemExit, match='needs tensorflow_model_server on PATH'):
        choose_backend(ServingOptions(backend='tf-serving'), None)


def test_model_config_is_a_valid_model_server_config_with_the_latest_policy():
    text = tf_serving.model_config_text('digits', '/srv/models/my "digits"', 2)

    config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert (model.name, model.base_path, model.model_platform) == (
        'digits',
        '/srv/models/my "digits"',
        'tensorflow',
    )
    assert model.model_version_policy.latest.num_versions == 2


def test_command_line_serves_rest_on_the_port_and_polls_in_whole_seconds():
    options = ServingOptions(port=9001, poll_interval_s=0.5)

    argv = tf_serving.command_line('/opt/tf/tensorflow_model_server', '/tmp/models.pbtxt', options)

    assert argv == [
        '/opt/tf/tensorflow_model_server',
        '--rest_api_port=9001',
        '--model_config_file=/tmp/models.pbtxt',
        '--file_system_poll_wait_seconds=1',
    ]
