"""TFX generic Trainer entry point: ``Trainer(run_fn="transforms.trainer.run_fn", ...)``.

Transform runs in place (no materialised copy of the data), so the Trainer reads the raw
examples of ``fn_args.train_files`` and parses and transforms them once, in large
batches, several at a time (``read_batches``). That one pass
(``transforms.training_rows.collect``) sums what the model starts from (the per-approach
historical average of ``transforms.approach_table``, which initialises each approach's
log-rate and travels frozen inside the model for the gate), holds rows out of the train
split to watch for early stopping (a seeded hash of each row, ``validation_fraction`` of
them, or whole local days with ``validation_split`` days: ``transforms.row_order``; the
eval split is never read here, so the Evaluator's numbers are not optimistic), and
stores the other rows: model inputs and labels, about 60 bytes a row.

They stay in memory while they fit the memory budget (``resources.memory_budget_mb``,
``transforms.memory_budget``), else they go to bucket files on local disk and every
training pass streams them one bucket at a time (``transforms.row_store``). The row
order and batches come from each row's content and the seed (``transforms.row_order``),
so both paths train the same model, whatever the files' order or sharding.
``training_input.json`` in the model run dir records which path ran. Trains the model
of ``transforms.model`` (optionally warm-started from ``fn_args.base_model``) and
exports it with ``transforms.export``.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras
from absl import logging
from tfx.components.trainer.fn_args_utils import FnArgs

from transforms import (
    approach_table,
    beam_rows,
    calibration,
    features,
    keras_mode,
    memory_budget,
    row_order,
    training_rows,
)
from transforms.approach_counts import ApproachCounts
from transforms.collisions import cell_buckets
from transforms.export import export_serving_model
from transforms.model import (
    CALIBRATION_LAYER,
    MODEL_FEATURES,
    HParams,
    build_model,
    day_hour_table,
    table_sha256,
)
from transforms.reading import load_batch_rows, read_batches, split_labels
from transforms.row_store import RowStore
from transforms.training_rows import RowBatch, TrainingRows
from transforms.warm_start import load_donor_embedding

__all__ = [
    "HParams",
    "read_batches",
    "run_fn",
    "split_labels",
    "train_and_export",
    "training_dataset",
]

MAX_EPOCHS = 10  # train_steps is spread over this many epochs (early stopping checkpoints)
VALIDATION_BATCH_SIZE = 16_384  # inference only: large batches, same result
TRAINING_INPUT_FILE = "training_input.json"  # in the model run dir: which path ran


def training_dataset(store: RowStore, batch_size: int, seed: int) -> tf.data.Dataset:
    """Endless batches of the stored training rows, pass after pass.

    Each pass visits the buckets and their rows in a new seeded order
    (``transforms.row_order``), reading one bucket at a time from memory or local disk,
    and cuts the stream into whole batches; the ``rows % batch_size`` rows left over by
    a pass differ from pass to pass. The Python side hands over chunks of whole batches,
    which tf.data slices into batches, so the input keeps up with the model.
    """
    size = min(batch_size, store.rows)

    def chunks() -> Iterator[tuple[dict[str, np.ndarray], dict[str, np.ndarray]]]:
        for pass_index in itertools.count():
            for chunk in store.pass_chunks(size, seed, pass_index):
                yield store.layout.columns(chunk)

    def spec(fields: tuple) -> dict[str, tf.TensorSpec]:
        return {
            name: tf.TensorSpec([None, *shape], np.dtype(dtype)) for name, dtype, shape in fields
        }

    def batches(inputs: dict, labels: dict) -> tf.data.Dataset:
        def whole(t: tf.Tensor) -> tf.Tensor:
            return tf.reshape(t, [-1, size, *t.shape[1:]])

        return tf.data.Dataset.from_tensor_slices(tf.nest.map_structure(whole, (inputs, labels)))

    signature = (spec(store.layout.inputs), spec(store.layout.labels))
    return (
        tf.data.Dataset.from_generator(chunks, output_signature=signature)
        .flat_map(batches)
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


def collect_batches(
    batches: Iterator[RowBatch], hparams: HParams, spill_dir: str
) -> training_rows.TrainingRows:
    """``training_rows.collect`` of ``batches`` with the Trainer's settings."""
    return training_rows.collect(
        batches,
        data_kind=hparams.data_kind,
        seed=hparams.seed,
        validation_fraction=hparams.validation_fraction,
        validation_split=hparams.validation_split,
        max_validation_rows=hparams.eval_steps * hparams.batch_size,
        budget_bytes=memory_budget.memory_budget_bytes(hparams.memory_budget_mb),
        spill_dir=spill_dir,
    )


def collect_rows(
    files: list[str],
    transform_graph: str,
    hparams: HParams,
    spill_dir: str,
    beam_dir: str = "",
) -> tuple[training_rows.TrainingRows, str]:
    """The training rows of ``files`` (TFT graph of ``transform_graph`` applied), held
    in memory under ``hparams.memory_budget_mb`` or spilled to ``spill_dir`` above it;
    and the reader that parsed them (``transforms.beam_rows``): this process, or a Beam
    job on a cluster's runner over the budget, which writes to ``beam_dir`` (shared
    storage; removed once read)."""
    budget = memory_budget.memory_budget_bytes(hparams.memory_budget_mb)
    batch_rows = load_batch_rows(budget)
    reader = beam_rows.choose_reader(files, budget, hparams.beam_pipeline_args)
    if reader == beam_rows.BEAM:
        if not beam_dir:
            raise ValueError("the Beam reader needs a directory its workers can write")
        written = beam_rows.transform_on_beam(
            files,
            transform_graph,
            hparams.data_kind,
            batch_rows,
            beam_dir,
            hparams.beam_pipeline_args,
        )
        batches = beam_rows.read_transformed(written)
    else:
        tft_output = tft.TFTransformOutput(transform_graph)
        batches = read_batches(files, tft_output, hparams.data_kind, batch_rows)
    try:
        rows = collect_batches(batches, hparams, spill_dir)
    finally:
        if reader == beam_rows.BEAM and tf.io.gfile.exists(beam_dir):
            tf.io.gfile.rmtree(beam_dir)
    return rows, reader


def train_and_export(fn_args: FnArgs) -> keras.Model:
    """``run_fn`` that returns the trained in-memory model (for tests and benchmarks)."""
    keras_mode.require_legacy_keras("Trainer run_fn")
    hparams = HParams.from_custom_config(
        fn_args.custom_config, train_steps=fn_args.train_steps, eval_steps=fn_args.eval_steps
    )
    keras.utils.set_random_seed(hparams.seed)
    transform_graph = fn_args.transform_graph_path or fn_args.transform_output
    tft_output = tft.TFTransformOutput(transform_graph)
    model_kwargs, warm_start_record = _warm_start(hparams, fn_args.base_model)
    with tempfile.TemporaryDirectory(prefix="trainer-rows-") as spill_dir:
        beam_dir = os.path.join(fn_args.model_run_dir, beam_rows.ROWS_DIR)
        rows, reader = collect_rows(
            fn_args.train_files, transform_graph, hparams, spill_dir, beam_dir
        )
        _record_input(rows, reader, fn_args.model_run_dir)
        # Types absent from training (a bicycle counter) are predicted as 0, not guessed.
        model = build_model(
            hparams,
            approaches=rows.approach_init,
            vehicle_types=rows.vehicle_types,
            **model_kwargs,
        )
        if warm_start_record is not None:  # proves what training started from
            warm_start_record["initial_embedding_sha256"] = table_sha256(day_hour_table(model))
        _fit(model, rows, hparams, fn_args.model_run_dir)
    calibrated = calibrate_model(model, rows, hparams)
    logging.info("calibrated to the approaches' counts: %s", calibrated.record())
    export_serving_model(
        model,
        tft_output,
        fn_args.serving_model_dir,
        hparams.embedding_spec(),
        warm_start_record,
        approaches=sorted(rows.approaches),
    )
    calibration.write_record(calibrated, fn_args.serving_model_dir)
    return model


def approach_sums(
    counts: ApproachCounts, ids: np.ndarray, cell_hours: np.ndarray
) -> calibration.Sums:
    """Vehicles and exposure hours of ``counts``' rows per (approach, cell, type) over the
    approaches ``ids``. Counts: the rows themselves; events: ``cell_hours`` (168,), the
    hours the rows stand for in each cell."""
    vehicles, count_rows = counts.on(ids)
    if counts.data_kind == features.DATA_KIND_COUNTS:
        return calibration.Sums(vehicles, count_rows)
    return calibration.Sums(vehicles, np.broadcast_to(cell_hours[None, :, None], vehicles.shape))


def predicted_week(
    model: keras.Model, approach_inputs: dict[str, np.ndarray], cross_buckets: int
) -> np.ndarray:
    """The model's vehicles per hour (A + 1, 168, types) for each of the A approaches of
    ``approach_inputs`` (one row of model inputs per approach, in sorted id order) and
    the unseen row."""
    approaches = len(approach_inputs[features.APPROACH_XF])
    unseen = {name: values[:1] for name, values in approach_inputs.items()}
    unseen[features.APPROACH_XF] = np.array([-1], np.int64)
    rows = {k: np.concatenate([approach_inputs[k], unseen[k]]) for k in MODEL_FEATURES}
    cells = np.arange(features.DAY_HOUR_CELLS)
    inputs = {k: np.repeat(v, len(cells)) for k, v in rows.items()}
    inputs[features.DAY_HOUR_CELL_XF] = np.tile(cells, approaches + 1)
    inputs[features.DAY_HOUR_CROSS_XF] = np.tile(cell_buckets(cross_buckets), approaches + 1)
    outputs = model.predict(inputs, batch_size=VALIDATION_BATCH_SIZE, verbose=0)
    per_hour = np.asarray(outputs[features.VEHICLES_PER_HOUR_OUTPUT], np.float64)
    return per_hour.reshape(approaches + 1, len(cells), -1)


def calibrate_model(
    model: keras.Model, rows: TrainingRows, hparams: HParams
) -> calibration.Calibration:
    """Sets the model's calibration layer from the train split's sums
    (``transforms.calibration``): the rows the model trained on, and those held out."""
    ids = rows.approach_init.ids
    fit, held_out = rows.fit_counts, rows.held_out_counts
    if hparams.validation_split == row_order.VALIDATION_BY_DAY:  # whole hours on each side
        fit_hours, held_out_hours = fit.exposure_hours(), held_out.exposure_hours()
    else:  # events: held-out rows are a random share of each hour's vehicles
        cell_hours, total = rows.counts.exposure_hours(), max(rows.rows, 1)
        fit_hours = fit.rows / total * cell_hours
        held_out_hours = held_out.rows / total * cell_hours

    def table_of(sums: calibration.Sums) -> np.ndarray:
        return approach_table.fit_approach_average(sums.vehicles, sums.hours).rates[:-1]

    result = calibration.calibrate(
        predicted_week(model, rows.counts.inputs, hparams.cross_buckets),
        fit=approach_sums(fit, ids, fit_hours),
        validation=approach_sums(held_out, ids, held_out_hours),
        table_of=table_of,
        weeks=[
            (week, approach_sums(counts, ids, counts.exposure_hours()))
            for week, counts in sorted(rows.counts.weeks.items())
        ],
    )
    model.get_layer(CALIBRATION_LAYER).set_weights([result.log_multipliers])
    return result


def _record_input(rows: TrainingRows, reader: str, model_run_dir: str) -> None:
    """Logs and writes ``TRAINING_INPUT_FILE``: the reader and path that ran, the rows."""
    record = {"reader": reader, **rows.record()}
    logging.info(
        "read %d train rows (%s reader): %d to fit (%s, %d bytes, budget %d), %d held out, "
        "%d validate (the eval split is not read)",
        record["rows"],
        reader,
        record["train_rows"],
        record["path"],
        record["train_bytes"],
        record["memory_budget_bytes"],
        record["held_out_rows"],
        record["validation_rows"],
    )
    tf.io.gfile.makedirs(model_run_dir)
    with tf.io.gfile.GFile(os.path.join(model_run_dir, TRAINING_INPUT_FILE), "w") as f:
        json.dump(record, f, indent=2)


def _fit(model: keras.Model, rows: TrainingRows, hparams: HParams, model_run_dir: str) -> None:
    """Trains ``model`` on the stored rows, early-stopping on the validation rows."""
    epochs = min(MAX_EPOCHS, hparams.train_steps)
    steps_per_epoch = math.ceil(hparams.train_steps / epochs)
    callbacks = [
        keras.callbacks.EarlyStopping(
            monitor="val_loss",
            patience=hparams.early_stopping_patience,
            restore_best_weights=True,
        ),
        keras.callbacks.TensorBoard(
            log_dir=os.path.join(model_run_dir, "logs"), update_freq="epoch"
        ),
        keras.callbacks.LambdaCallback(  # to the run log, not the console
            on_epoch_end=lambda epoch, logs: logging.info(
                "epoch %d: %s", epoch + 1, {k: round(float(v), 4) for k, v in logs.items()}
            )
        ),
    ]
    model.fit(
        training_dataset(rows.store, hparams.batch_size, hparams.seed),
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=(rows.validation.inputs, rows.validation.labels),
        validation_batch_size=VALIDATION_BATCH_SIZE,
        callbacks=callbacks,
        verbose=0,
    )
