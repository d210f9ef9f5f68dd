"""TFX generic Trainer entry point: ``Trainer(run_fn="transforms.trainer.run_fn", ...)``.

Reads the transformed examples through ``fn_args.data_accessor``, trains the model of
``transforms.model`` (optionally warm-started from ``fn_args.base_model``), and exports
it with ``transforms.export``.
"""

from __future__ import annotations

import math
import os
from typing import Any

import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from transforms import features
from transforms.export import export_serving_model
from transforms.model import HParams, build_model, day_hour_table, table_sha256
from transforms.preprocessing import UNKNOWN_VEHICLE_TYPE
from transforms.warm_start import load_donor_embedding

__all__ = ["HParams", "input_dataset", "run_fn", "split_labels", "train_and_export"]

MAX_EPOCHS = 10  # train_steps is spread over this many epochs (early stopping checkpoints)
MODEL_FEATURES = (features.DAY_HOUR_CROSS_XF, features.INTERSECTION_XF, features.DIRECTION_XF)


def split_labels(
    transformed: dict[str, tf.Tensor],
) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
    """(model inputs, {output name: label}) from a batch of transformed features.

    Fails loudly on a vehicle type outside ``features.VEHICLE_TYPES``.
    """
    vehicle_type = transformed[features.VEHICLE_TYPE_LABEL_XF]
    check = tf.debugging.assert_none_equal(
        vehicle_type,
        tf.constant(UNKNOWN_VEHICLE_TYPE, vehicle_type.dtype),
        message=f"{features.VEHICLE_TYPE} not in {features.VEHICLE_TYPES} in a training example",
    )
    with tf.control_dependencies([check]):
        vehicle_type = tf.identity(vehicle_type)
    inputs = {name: transformed[name] for name in MODEL_FEATURES}
    labels = {
        features.HEADWAY_OUTPUT: transformed[features.HEADWAY_LABEL_XF],
        features.VEHICLE_TYPE_OUTPUT: vehicle_type,
    }
    return inputs, labels


def input_dataset(
    file_pattern: list[str],
    data_accessor: DataAccessor,
    schema: schema_pb2.Schema,
    batch_size: int,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Repeating, shuffled (inputs, labels) batches; ``schema``: TFT's transformed schema."""
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, shuffle_seed=seed),
        schema,
    )
    return dataset.map(split_labels, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _warm_start(hparams: HParams, base_model: str | None) -> tuple[dict[str, Any], dict | None]:
    """build_model kwargs and the record written next to the model (None = cold start)."""
    if not hparams.warm_start_mode:
        return {}, None
    donor = load_donor_embedding(base_model, hparams.embedding_spec())
    logging.info("warm start (%s) from %s", hparams.warm_start_mode, donor.model_dir)
    kwargs = {
        "day_hour_initial_weights": donor.table,
        "day_hour_trainable": hparams.warm_start_mode == "fine_tune",
    }
    record = {
        "donor": donor.model_dir,
        "mode": hparams.warm_start_mode,
        "donor_city": donor.spec.city,
        "donor_embedding_sha256": table_sha256(donor.table),
    }
    return kwargs, record


def run_fn(fn_args: FnArgs) -> None:
    """TFX entry point: trains and exports the model; see the module docstring."""
    train_and_export(fn_args)


def train_and_export(fn_args: FnArgs) -> keras.Model:
    """``run_fn`` that returns the trained in-memory model (for tests and benchmarks)."""
    hparams = HParams.from_custom_config(
        fn_args.custom_config, train_steps=fn_args.train_steps, eval_steps=fn_args.eval_steps
    )
    keras.utils.set_random_seed(hparams.seed)
    tft_output = tft.TFTransformOutput(fn_args.transform_graph_path or fn_args.transform_output)
    model_kwargs, warm_start_record = _warm_start(hparams, fn_args.base_model)
    model = build_model(hparams, **model_kwargs)
    if warm_start_record is not None:  # proves what training started from
        warm_start_record["initial_embedding_sha256"] = table_sha256(day_hour_table(model))

    schema = tft_output.transformed_metadata.schema
    train = input_dataset(
        fn_args.train_files, fn_args.data_accessor, schema, hparams.batch_size, hparams.seed
    )
    evaluation = input_dataset(
        fn_args.eval_files, fn_args.data_accessor, schema, hparams.batch_size, hparams.seed
    )
    epochs = min(MAX_EPOCHS, hparams.train_steps)
    steps_per_epoch = math.ceil(hparams.train_steps / epochs)
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=hparams.early_stopping_patience,
            restore_best_weights=True,
        ),
        keras.callbacks.TensorBoard(
            log_dir=os.path.join(fn_args.model_run_dir, "logs"), update_freq="epoch"
        ),
        keras.callbacks.LambdaCallback(  # to the run log, not the console
            on_epoch_end=lambda epoch, logs: logging.info(
                "epoch %d: %s", epoch + 1, {k: round(float(v), 4) for k, v in logs.items()}
            )
        ),
    ]
    model.fit(
        train,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=evaluation,
        validation_steps=hparams.eval_steps,
        callbacks=callbacks,
        verbose=0,
    )
    export_serving_model(
        model, tft_output, fn_args.serving_model_dir, hparams.embedding_spec(), warm_start_record
    )
    return model
