"""Configuration: defaults derived from the data set, then environment, then flags."""

import os

import pytest

from pipeline.config import PipelineConfig, load_config


def test_defaults_derive_names_and_paths_from_the_dataset():
    config = PipelineConfig(dataset='mnist', work_root='/srv/tfx')

    assert config.pipeline_name == 'mnist'
    assert config.model_name == 'mnist'
    assert config.data_root == os.path.abspath('data/mnist')
    assert config.schema_dir.endswith(os.path.join('schema', 'mnist'))
    assert config.pipeline_root == '/srv/tfx/pipelines/mnist'
    assert config.metadata_path == '/srv/tfx/pipelines/mnist/metadata.sqlite'
    assert config.serving_model_dir == '/srv/tfx/serving/mnist'


def test_environment_overrides_defaults_and_flags_override_environment():
    env = {'DIGITS_MIN_ACCURACY': '0.95', 'DIGITS_TRAIN_STEPS': '50', 'DIGITS_ENABLE_CACHE': 'no'}

    config = load_config(['--train-steps', '70'], env=env)

    assert config.min_accuracy == 0.95
    assert config.train_steps == 70
    assert config.enable_cache is False


def test_uris_with_a_scheme_are_kept_as_given():
    config = PipelineConfig(pipeline_root='gs://bucket/root', serving_root='gs://bucket/serving')

    assert config.pipeline_root == 'gs://bucket/root'
    assert config.serving_model_dir == 'gs://bucket/serving/digits'


def test_beam_args_follow_the_direct_runner_settings():
    config = PipelineConfig(
        beam_direct_running_mode='multi_processing', beam_num_workers=0, beam_extra_args='--a=1'
    )

    assert config.beam_pipeline_args() == [
        '--runner=DirectRunner',
        '--direct_running_mode=multi_processing',
        '--direct_num_workers=0',
        '--a=1',
    ]


@pytest.mark.parametrize(
    'overrides, message',
    [
        ({'min_accuracy': 1.5}, 'min_accuracy must lie in'),
        ({'train_steps': 0}, 'train_steps must be at least 1'),
        ({'beam_direct_running_mode': 'fast'}, 'beam_direct_running_mode must be one of'),
    ],
)
def test_bad_settings_are_refused_with_the_setting_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        PipelineConfig(**overrides)
