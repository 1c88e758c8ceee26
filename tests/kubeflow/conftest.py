"""A compiled spec shared by the Kubeflow tests: bucket roots, the project's curated schema."""

import pytest
import yaml

from runners import kubeflow_runner
from tests.kubeflow.cluster import IMAGE, cluster_config


@pytest.fixture(scope='session')
def compiled(tmp_path_factory):
    """The compiled spec (as read back from its YAML file), its config and its path."""
    config = cluster_config()
    spec_path = str(tmp_path_factory.mktemp('kubeflow') / 'pipeline.yaml')
    kubeflow_runner.compile_pipeline(config, IMAGE, spec_path)
    with open(spec_path) as spec_file:
        spec = yaml.safe_load(spec_file)
    return spec, config, spec_path
