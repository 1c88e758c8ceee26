"""The Trainer's `run_fn`: trains the classifier behind the Transform graph and exports it.

TFX calls `run_fn` by its module path (`models.trainer.run_fn`), so no user module is packaged
at run time: the code comes from this installed package, locally and in the Kubeflow image.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import keras
import tensorflow as tf
import tensorflow_transform as tft
from absl import logging
from tfx import v1 as tfx
from tfx_bsl.public import tfxio

from models.export import export_serving_model
from models.image_spec import image_spec_from_schema, load_schema
from models.model import build_model
from preprocessing import features

_MAX_LOGGED_EPOCHS = 10


@dataclasses.dataclass(frozen=True)
class TrainingParams:
    """Knobs the pipeline passes to `run_fn` through the Trainer's custom_config.

    Attributes:
        batch_size: Examples per training and evaluation batch.
        learning_rate: Adam learning rate.
        hidden_units: Width of the hidden layers.
        seed: Seeds weight initialisation, dropout and shuffling, so that a rerun on the same
            data trains the same model.
    """

    batch_size: int = 32
    learning_rate: float = 0.003
    hidden_units: int = 64
    seed: int = 42

    def to_custom_config(self) -> dict[str, Any]:
        """The dict to hand to the Trainer as custom_config."""
        return dataclasses.asdict(self)

    @classmethod
    def from_custom_config(cls, custom_config: dict[str, Any] | None) -> TrainingParams:
        """Reads the params back inside `run_fn`, ignoring keys it does not know."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in (custom_config or {}).items() if k in names})


class _EpochLogger(keras.callbacks.Callback):
    """Logs one line per epoch through absl, so the run's progress filter shows it."""

    def __init__(self, epochs: int) -> None:
        super().__init__()
        self._epochs = epochs

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        """Logs the epoch's training and eval loss and accuracy."""
        logs = logs or {}
        logging.info(
            'Epoch %d/%d: loss %.4f, accuracy %.4f; eval loss %.4f, eval accuracy %.4f',
            epoch + 1,
            self._epochs,
            logs.get('loss', float('nan')),
            logs.get('sparse_categorical_accuracy', float('nan')),
            logs.get('val_loss', float('nan')),
            logs.get('val_sparse_categorical_accuracy', float('nan')),
        )


def _dataset(
    file_pattern: list[str],
    data_accessor: tfx.components.DataAccessor,
    transform_output: tft.TFTransformOutput,
    params: TrainingParams,
    num_epochs: int | None,
) -> tf.data.Dataset:
    """Reads transformed examples as (features, label) batches; None epochs repeats forever."""
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=params.batch_size,
        label_key=features.LABEL_KEY,
        num_epochs=num_epochs,
        shuffle_seed=params.seed,
    )
    return data_accessor.tf_dataset_factory(
        file_pattern, options, transform_output.transformed_metadata.schema
    )


def run_fn(fn_args: tfx.components.FnArgs) -> None:
    """Trains for `fn_args.train_steps` batches and exports both serving signatures.

    Args:
        fn_args: The Trainer's arguments: transformed train and eval files, the Transform
            output, the curated schema, step counts, custom_config and the export directory.
    """
    params = TrainingParams.from_custom_config(fn_args.custom_config)
    keras.utils.set_random_seed(params.seed)
    transform_output = tft.TFTransformOutput(fn_args.transform_output)
    image_spec = image_spec_from_schema(load_schema(fn_args.schema_path))

    train_data = _dataset(
        fn_args.train_files, fn_args.data_accessor, transform_output, params, None
    )
    eval_data = _dataset(fn_args.eval_files, fn_args.data_accessor, transform_output, params, 1)

    num_pixels = transform_output.transformed_feature_spec()[features.IMAGE_KEY].shape[0]
    model = build_model(num_pixels, params.hidden_units, params.learning_rate)
    epochs = min(_MAX_LOGGED_EPOCHS, fn_args.train_steps)
    logging.info(
        'Training a %d-pixel (%dx%d) digit classifier for %d steps of %d examples',
        num_pixels,
        image_spec.height,
        image_spec.width,
        fn_args.train_steps,
        params.batch_size,
    )
    history = model.fit(
        train_data,
        epochs=epochs,
        steps_per_epoch=math.ceil(fn_args.train_steps / epochs),
        validation_data=eval_data,
        callbacks=[_EpochLogger(epochs)],
        verbose=0,
    )
    logging.info(
        'Trained: eval accuracy %.4f, eval loss %.4f',
        history.history['val_sparse_categorical_accuracy'][-1],
        history.history['val_loss'][-1],
    )

    export_serving_model(model, transform_output, image_spec, fn_args.serving_model_dir)
    logging.info('Exported the serving model to %s', fn_args.serving_model_dir)
