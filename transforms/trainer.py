"""TFX generic Trainer entry point: ``Trainer(run_fn="transforms.trainer.run_fn", ...)``.

Transform runs in place (no materialised copy of the data), so the Trainer reads the
raw examples through ``fn_args.data_accessor`` and applies the TFT graph once, in
large batches, keeping only the model inputs and labels in memory (about 40 bytes a
row), in a stable order by content. Training then runs on in-memory tensors, the
throughput limit of the model. Early stopping watches rows held out of the train split
(``carve_validation``: a seeded hash of each row, ``validation_fraction`` of them); the
eval split is never read here, so the Evaluator's numbers are not optimistic. Before
fitting, the per-approach historical average is fitted on the whole train split
(``transforms.approach_table``): it initialises each approach's log-rate and travels
frozen inside the model for the gate. Trains the model
of ``transforms.model`` (optionally warm-started from ``fn_args.base_model``) and
exports it with ``transforms.export``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx_bsl.public import tfxio

from transforms import approach_table, calibration, features, keras_mode
from transforms.collisions import cell_buckets
from transforms.export import export_serving_model
from transforms.model import (
    CALIBRATION_LAYER,
    MODEL_FEATURES,
    ApproachInit,
    HParams,
    build_model,
    day_hour_table,
    table_sha256,
)
from transforms.preprocessing import MISSING_COUNT, UNKNOWN_VEHICLE_TYPE
from transforms.warm_start import load_donor_embedding

__all__ = [
    "HParams",
    "InMemorySplit",
    "load_split",
    "run_fn",
    "split_labels",
    "train_and_export",
    "training_dataset",
]

MAX_EPOCHS = 10  # train_steps is spread over this many epochs (early stopping checkpoints)
LOAD_BATCH_SIZE = 65_536  # rows per TFT-graph call while loading a split
VALIDATION_BATCH_SIZE = 16_384  # inference only: large batches, same result


def split_labels(
    transformed: dict[str, tf.Tensor], data_kind: str = HParams.data_kind
) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
    """(model inputs, {output name: label}) from a batch of transformed features.

    Events: the headway and the vehicle-type index. Counts: ``features.COUNT_LABEL_XF``
    for ``VEHICLES_PER_HOUR_OUTPUT``. Fails loudly on a vehicle type outside
    ``features.VEHICLE_TYPES`` and on a counts example without a count.
    """
    vehicle_type = transformed[features.VEHICLE_TYPE_LABEL_XF]
    checks = [
        tf.debugging.assert_none_equal(
            vehicle_type,
            tf.constant(UNKNOWN_VEHICLE_TYPE, vehicle_type.dtype),
            message=f"{features.VEHICLE_TYPE} not in {features.VEHICLE_TYPES} in a training "
            "example",
        )
    ]
    if data_kind == features.DATA_KIND_COUNTS:
        count_label = transformed[features.COUNT_LABEL_XF]
        checks.append(
            tf.debugging.assert_none_equal(
                count_label[:, 0],
                tf.constant(MISSING_COUNT, count_label.dtype),
                message=f"{features.VEHICLE_COUNT} missing in a training example",
            )
        )
        with tf.control_dependencies(checks):
            labels = {features.VEHICLES_PER_HOUR_OUTPUT: tf.identity(count_label)}
    else:
        with tf.control_dependencies(checks):
            vehicle_type = tf.identity(vehicle_type)
        labels = {
            features.HEADWAY_OUTPUT: transformed[features.HEADWAY_LABEL_XF],
            features.VEHICLE_TYPE_OUTPUT: vehicle_type,
        }
    inputs = {name: transformed[name] for name in MODEL_FEATURES}
    return inputs, labels


@dataclass
class InMemorySplit:
    """A split's model inputs and labels as numpy columns, and the approaches seen."""

    inputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    approaches: set[tuple[str, str]] = field(default_factory=set)
    timestamps: np.ndarray | None = None  # int64 epoch seconds of each row

    def take(self, index: np.ndarray) -> InMemorySplit:
        """The rows at ``index`` (in that order)."""
        return InMemorySplit(
            {k: v[index] for k, v in self.inputs.items()},
            {k: v[index] for k, v in self.labels.items()},
            self.approaches,
            None if self.timestamps is None else self.timestamps[index],
        )

    def type_index(self) -> np.ndarray:
        """Each row's index into ``VEHICLE_TYPES`` (int64)."""
        if features.VEHICLE_TYPE_OUTPUT in self.labels:
            return self.labels[features.VEHICLE_TYPE_OUTPUT].astype(np.int64)
        return self.labels[features.VEHICLES_PER_HOUR_OUTPUT][:, 1].astype(np.int64)

    def vehicles(self) -> np.ndarray:
        """Vehicles each row stands for: its count (counts) or 1 (events)."""
        if features.VEHICLES_PER_HOUR_OUTPUT in self.labels:
            return self.labels[features.VEHICLES_PER_HOUR_OUTPUT][:, 0].astype(np.float64)
        return np.ones(self.rows)

    @property
    def rows(self) -> int:
        return len(next(iter(self.labels.values())))

    def vehicle_types(self) -> list[int]:
        """Indices into ``VEHICLE_TYPES`` of the types that occur in the labels."""
        return np.unique(self.type_index()).tolist()

    def sample(self, max_rows: int) -> InMemorySplit:
        """At most ``max_rows`` rows spread evenly over the split (deterministic)."""
        if self.rows <= max_rows:
            return self
        return self.take(np.linspace(0, self.rows - 1, max_rows).astype(np.int64))


def _projected_schema(schema: schema_pb2.Schema, names: tuple[str, ...]) -> schema_pb2.Schema:
    """``schema`` with only the features in ``names`` (the reader parses nothing else)."""
    missing = set(names) - {f.name for f in schema.feature}
    if missing:
        raise ValueError(f"raw schema lacks features the Trainer needs: {sorted(missing)}")
    projected = schema_pb2.Schema()
    projected.CopyFrom(schema)
    del projected.feature[:]
    projected.feature.extend(f for f in schema.feature if f.name in names)
    return projected


def load_split(
    file_pattern: list[str],
    data_accessor: DataAccessor,
    tft_output: tft.TFTransformOutput,
    data_kind: str = HParams.data_kind,
) -> InMemorySplit:
    """Reads raw examples, applies the TFT graph in large batches, keeps inputs and labels."""
    schema = _projected_schema(
        tft_output.raw_metadata.schema,
        (*features.TRAINING_RAW_FEATURES_BY_KIND[data_kind], features.TIMESTAMP_UTC),
    )
    dataset = data_accessor.tf_dataset_factory(
        file_pattern,
        tfxio.TensorFlowDatasetOptions(batch_size=LOAD_BATCH_SIZE, num_epochs=1, shuffle=False),
        schema,
    )
    tft_layer = tft_output.transform_features_layer()

    def transform(raw: dict[str, tf.Tensor]) -> tuple[Any, Any, tf.Tensor, tf.Tensor]:
        inputs, labels = split_labels(tft_layer(raw), data_kind)
        approach = tf.strings.join(
            [
                tf.reshape(raw[features.INTERSECTION], [-1]),
                tf.reshape(raw[features.DIRECTION], [-1]),
            ],
            separator="\x00",
        )
        return inputs, labels, tf.unique(approach).y, tf.reshape(raw[features.TIMESTAMP_UTC], [-1])

    chunks: list[tuple[dict, dict, np.ndarray]] = []
    approaches: set[tuple[str, str]] = set()
    # Traced as written: AutoGraph would rewrite the TFT layer's internals first (seconds).
    transform = tf.autograph.experimental.do_not_convert(transform)
    for inputs, labels, approach, timestamps in dataset.map(transform).prefetch(1):
        chunks.append(
            (
                {k: v.numpy() for k, v in inputs.items()},
                {k: v.numpy() for k, v in labels.items()},
                timestamps.numpy(),
            )
        )
        approaches.update(tuple(a.decode().split("\x00", 1)) for a in approach.numpy())
    if not chunks:
        raise ValueError(f"no examples in {file_pattern}")
    split = InMemorySplit(
        {k: np.concatenate([c[0][k] for c in chunks]) for k in chunks[0][0]},
        {k: np.concatenate([c[1][k] for c in chunks]) for k in chunks[0][1]},
        approaches,
        np.concatenate([c[2] for c in chunks]).astype(np.int64),
    )
    # The files' row order depends on how Beam sharded them: a stable order by content
    # makes the seeded shuffle, and so the trained model, the same on every run.
    return split.take(np.lexsort(_row_key(split)[::-1]))


def _row_key(split: InMemorySplit) -> tuple[np.ndarray, ...]:
    """Columns that order rows by content: time, approach, type, label."""
    label = next(iter(split.labels.values()))
    label = label.reshape(split.rows, -1)[:, 0].astype(np.float64)
    return (
        split.timestamps,
        split.inputs[features.APPROACH_XF],
        split.type_index(),
        label,
    )


def _mix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 (a stateless, well-spread hash)."""
    x = x.astype(np.uint64)
    with np.errstate(over="ignore"):
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def row_hashes(split: InMemorySplit, seed: int) -> np.ndarray:
    """A seeded 64-bit hash of each row's content (uint64), whatever the files' order."""
    with np.errstate(over="ignore"):
        h = _mix64(np.full(split.rows, seed, np.uint64))
        for column in _row_key(split):
            h = _mix64(h ^ np.asarray(column).astype(np.int64).view(np.uint64))
    return h


def carve_validation(
    split: InMemorySplit, fraction: float, seed: int
) -> tuple[InMemorySplit, InMemorySplit]:
    """(training rows, validation rows): a seeded hash of each row's content picks about
    ``fraction`` of the rows for validation, whatever order the files came in."""
    h = row_hashes(split, seed)
    held_out = (h % np.uint64(1 << 20)).astype(np.float64) < fraction * (1 << 20)
    if held_out.all() or not held_out.any():  # a tiny split: keep one row each way
        held_out = np.arange(split.rows) == split.rows - 1
    return split.take(np.flatnonzero(~held_out)), split.take(np.flatnonzero(held_out))


def approach_init(split: InMemorySplit, data_kind: str) -> ApproachInit:
    """The trained approaches, their initial log-rates and the historical-average table,
    all from the train split (``transforms.approach_table``)."""
    ids, rows = np.unique(split.inputs[features.APPROACH_XF], return_inverse=True)
    cells = split.inputs[features.DAY_HOUR_CELL_XF]
    types = split.type_index()
    vehicles = approach_table.observed_sums(rows, cells, types, split.vehicles(), len(ids))
    if data_kind == features.DATA_KIND_COUNTS:
        hours = approach_table.observed_sums(rows, cells, types, np.ones(split.rows), len(ids))
    else:
        hours = approach_table.event_exposure_hours(cells, split.timestamps)
    table = approach_table.fit_approach_average(vehicles, hours)
    per_hour = approach_table.initial_rates(table, vehicles.sum(axis=1))
    return ApproachInit(
        ids, np.log(per_hour / 3600.0).astype(np.float32), table.rates, rows=split.rows
    )


def approach_sums(
    split: InMemorySplit, ids: np.ndarray, data_kind: str, cell_hours: np.ndarray, share: float
) -> calibration.Sums:
    """Vehicles and exposure hours of ``split``'s rows per (approach, cell, type) over the
    approaches ``ids``. Events: ``cell_hours`` (168,) of the whole train split times the
    rows' ``share`` of it (validation rows are a random share of the vehicles); counts:
    the rows themselves."""
    rows = np.searchsorted(ids, split.inputs[features.APPROACH_XF])
    cells = split.inputs[features.DAY_HOUR_CELL_XF]
    types = split.type_index()
    vehicles = approach_table.observed_sums(rows, cells, types, split.vehicles(), len(ids))
    if data_kind == features.DATA_KIND_COUNTS:
        ones = np.ones(split.rows)
        hours = approach_table.observed_sums(rows, cells, types, ones, len(ids))
    else:
        hours = np.broadcast_to(share * cell_hours[None, :, None], vehicles.shape)
    return calibration.Sums(vehicles, hours)


def first_rows_of_approaches(split: InMemorySplit) -> dict[str, np.ndarray]:
    """Each approach's model inputs as in its first row, approaches in sorted id order."""
    _, first = np.unique(split.inputs[features.APPROACH_XF], return_index=True)
    return {name: split.inputs[name][first] for name in MODEL_FEATURES}


def predicted_week(
    model: keras.Model, per_approach: dict[str, np.ndarray], cross_buckets: int
) -> np.ndarray:
    """The model's vehicles per hour (A + 1, 168, types) for the A approaches of
    ``per_approach`` (model inputs, one row each: its intersection and direction) and
    the unseen approach."""
    unseen = {name: values[:1] for name, values in per_approach.items()}
    unseen[features.APPROACH_XF] = np.array([-1], np.int64)
    rows = {k: np.concatenate([v, unseen[k]]) for k, v in per_approach.items()}
    approaches = len(rows[features.APPROACH_XF])
    cells = np.arange(features.DAY_HOUR_CELLS)
    inputs = {k: np.repeat(v, len(cells)) for k, v in rows.items()}
    inputs[features.DAY_HOUR_CELL_XF] = np.tile(cells, approaches)
    inputs[features.DAY_HOUR_CROSS_XF] = np.tile(cell_buckets(cross_buckets), approaches)
    outputs = model.predict(inputs, batch_size=VALIDATION_BATCH_SIZE, verbose=0)
    per_hour = np.asarray(outputs[features.VEHICLES_PER_HOUR_OUTPUT], np.float64)
    return per_hour.reshape(approaches, len(cells), -1)


def calibrate_model(
    model: keras.Model,
    train_split: InMemorySplit,
    fit: InMemorySplit,
    validation: InMemorySplit,
    approaches: ApproachInit,
    hparams: HParams,
) -> calibration.Calibration:
    """Sets the model's calibration layer from the train split (``transforms.calibration``):
    ``fit`` the rows the model trained on, ``validation`` those held out of training."""
    ids, data_kind = approaches.ids, hparams.data_kind
    cell_hours = np.zeros(features.DAY_HOUR_CELLS)
    if data_kind != features.DATA_KIND_COUNTS:
        cells = train_split.inputs[features.DAY_HOUR_CELL_XF]
        cell_hours = approach_table.event_exposure_hours(cells, train_split.timestamps)
    total = max(train_split.rows, 1)

    def table_of(sums: calibration.Sums) -> np.ndarray:
        return approach_table.fit_approach_average(sums.vehicles, sums.hours).rates[:-1]

    result = calibration.calibrate(
        predicted_week(model, first_rows_of_approaches(train_split), hparams.cross_buckets),
        fit=approach_sums(fit, ids, data_kind, cell_hours, fit.rows / total),
        validation=approach_sums(validation, ids, data_kind, cell_hours, validation.rows / total),
        table_of=table_of,
    )
    model.get_layer(CALIBRATION_LAYER).set_weights([result.log_multipliers])
    return result


def training_dataset(split: InMemorySplit, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless batches from the in-memory columns, a new random permutation every pass.

    Each pass draws a seeded permutation of the row indices (deterministic for ``seed``)
    and gathers whole batches from the columns: no per-row shuffling, so the input
    pipeline keeps up with the model. The ``rows % batch_size`` rows left over by a pass
    differ from pass to pass.
    """
    inputs = {k: tf.constant(v) for k, v in split.inputs.items()}
    labels = {k: tf.constant(v) for k, v in split.labels.items()}
    rows, size = split.rows, min(batch_size, split.rows)
    per_pass = rows // size

    def pass_batches(pass_index: tf.Tensor) -> tf.data.Dataset:
        order = tf.random.experimental.stateless_shuffle(
            tf.range(rows, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), pass_index])
        )
        return tf.data.Dataset.from_tensor_slices(tf.reshape(order[: per_pass * size], [-1, size]))

    def gather(index: tf.Tensor) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
        return (
            {k: tf.gather(v, index) for k, v in inputs.items()},
            {k: tf.gather(v, index) for k, v in labels.items()},
        )

    return (
        tf.data.Dataset.range(np.iinfo(np.int64).max)
        .flat_map(pass_batches)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


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
    keras_mode.require_legacy_keras("Trainer run_fn")
    hparams = HParams.from_custom_config(
        fn_args.custom_config, train_steps=fn_args.train_steps, eval_steps=fn_args.eval_steps
    )
    keras.utils.set_random_seed(hparams.seed)
    tft_output = tft.TFTransformOutput(fn_args.transform_graph_path or fn_args.transform_output)
    model_kwargs, warm_start_record = _warm_start(hparams, fn_args.base_model)
    kind = hparams.data_kind
    train_split = load_split(fn_args.train_files, fn_args.data_accessor, tft_output, kind)
    approaches = approach_init(train_split, kind)
    train, held_out = carve_validation(train_split, hparams.validation_fraction, hparams.seed)
    validation = held_out.sample(hparams.eval_steps * hparams.batch_size)
    logging.info(
        "loaded %d train %s rows: %d to fit, %d to validate (the eval split is not read)",
        train_split.rows,
        kind,
        train.rows,
        validation.rows,
    )
    # Types absent from training (a bicycle counter) are predicted as 0, not guessed.
    model = build_model(
        hparams,
        approaches=approaches,
        vehicle_types=train_split.vehicle_types(),
        **model_kwargs,
    )
    if warm_start_record is not None:  # proves what training started from
        warm_start_record["initial_embedding_sha256"] = table_sha256(day_hour_table(model))
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
        training_dataset(train, hparams.batch_size, hparams.seed),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=(validation.inputs, validation.labels),
        validation_batch_size=VALIDATION_BATCH_SIZE,
        callbacks=callbacks,
        verbose=0,
    )
    calibrated = calibrate_model(model, train_split, train, held_out, approaches, hparams)
    logging.info("calibrated to the approaches' counts: %s", calibrated.record())
    export_serving_model(
        model,
        tft_output,
        fn_args.serving_model_dir,
        hparams.embedding_spec(),
        warm_start_record,
        approaches=sorted(train_split.approaches),
    )
    calibration.write_record(calibrated, fn_args.serving_model_dir)
    return model
