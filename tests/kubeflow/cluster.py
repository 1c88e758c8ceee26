"""Settings of the Kubeflow tests: the image name and a config whose roots are in a bucket."""

from pipeline.config import PipelineConfig

IMAGE = 'registry.example/tfx-digits:test'
BUCKET = 'gs://digits-test-bucket'


def cluster_config(**overrides) -> PipelineConfig:
    """Roots in a bucket, as on a cluster; the schema stays local, since compiling reads it."""
    settings = dict(
        data_root=f'{BUCKET}/data/digits',
        pipeline_root=f'{BUCKET}/pipelines',
        serving_root=f'{BUCKET}/serving',
        train_steps=120,
        min_accuracy=0.92,
        max_accuracy_drop=0.02,
    )
    settings.update(overrides)
    return PipelineConfig(**settings)
