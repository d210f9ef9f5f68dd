"""The stock-TFX ``run_fn`` the pipeline benchmark compares against (TFX template style).

Reads Transform's materialised examples through the DataAccessor, trains the same
model with ``validation_steps`` batches after each epoch, and exports with the same
export code. Only the input path differs from ``transforms.trainer``.
"""

from __future__ import annotations

import math

import tensorflow as tf
import tensorflow_transform as tft
from tfx.components.trainer.fn_args_utils import FnArgs
from tfx_bsl.public import tfxio

from transforms.export import export_serving_model
from transforms.model import HParams, build_model
from transforms.reading import split_labels
from transforms.trainer import MAX_EPOCHS


def _dataset(files, fn_args: FnArgs, schema, hparams: HParams) -> tf.data.Dataset:
    options = tfxio.TensorFlowDatasetOptions(
        batch_size=hparams.batch_size, shuffle_seed=hparams.seed
    )
    dataset = fn_args.data_accessor.tf_dataset_factory(files, options, schema)
    return dataset.map(split_labels, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def run_fn(fn_args: FnArgs) -> None:
    """TFX Trainer entry point on materialised transformed examples."""
    hparams = HParams.from_custom_config(
        fn_args.custom_config, train_steps=fn_args.train_steps, eval_steps=fn_args.eval_steps
    )
    tf.keras.utils.set_random_seed(hparams.seed)
    tft_output = tft.TFTransformOutput(fn_args.transform_graph_path)
    schema = tft_output.transformed_metadata.schema
    model = build_model(hparams)
    epochs = min(MAX_EPOCHS, hparams.train_steps)
    model.fit(
        _dataset(fn_args.train_files, fn_args, schema, hparams),
        epochs=epochs,
        steps_per_epoch=math.ceil(hparams.train_steps / epochs),
        validation_data=_dataset(fn_args.eval_files, fn_args, schema, hparams),
        validation_steps=hparams.eval_steps,
        verbose=0,
    )
    export_serving_model(model, tft_output, fn_args.serving_model_dir, hparams.embedding_spec())
