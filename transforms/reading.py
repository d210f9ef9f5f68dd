"""The Trainer's reading of raw examples: parsed and passed through the TFT graph in batches.

``read_batches`` is the Trainer's own pass over a split (tf.data, several batches at
once); ``batch_transform`` is the function of one batch it runs, which the Beam path of
``transforms.beam_rows`` runs in its workers too, so both give the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft

from transforms import features
from transforms.hparams import HParams
from transforms.model import MODEL_FEATURES
from transforms.preprocessing import MISSING_COUNT, UNKNOWN_VEHICLE_TYPE
from transforms.training_rows import RowBatch

LOAD_BATCH_SIZE = 65_536  # rows per TFT-graph call while reading a split
MIN_LOAD_BATCH_SIZE = 64
LOAD_PARALLEL_BATCHES = 2  # batches parsed and transformed at once (tf.data threads)
# Bytes that the batches being read at once (the parallel ones, one prefetched, one
# consumed) take per row of one batch, rounded up: measured about 1.2 KB on London
# events (each batch being parsed: 254 B serialized, 130 B parsed, 60 B transformed;
# the others: numpy columns and records).
LOAD_BYTES_PER_BATCH_ROW = 2048
APPROACH_SEPARATOR = "\x00"  # between intersection and direction (approaches)


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


def load_batch_rows(budget_bytes: int) -> int:
    """Rows per TFT-graph call while reading: ``LOAD_BATCH_SIZE``, or as many as keep
    the batches being read at once within ``budget_bytes``."""
    per_batch = budget_bytes // LOAD_BYTES_PER_BATCH_ROW
    return int(min(LOAD_BATCH_SIZE, max(MIN_LOAD_BATCH_SIZE, per_batch)))


def matching_files(file_pattern: Sequence[str]) -> list[str]:
    """The files of ``file_pattern`` (globs), sorted."""
    return sorted({f for pattern in file_pattern for f in tf.io.gfile.glob(pattern)})


def raw_examples(file_pattern: Sequence[str], batch_size: int) -> tf.data.Dataset:
    """Batches of serialized tf.Examples of the files matching ``file_pattern`` (the
    Trainer's ``train_files``: ExampleGen's TFRecords, GZIP when every name ends in
    ``.gz``, as TFXIO decides), file after file in sorted order."""
    files = matching_files(file_pattern)
    if not files:
        raise ValueError(f"no example files match {list(file_pattern)}")
    gzip = all(name.endswith(".gz") for name in files)
    records = tf.data.TFRecordDataset(files, compression_type="GZIP" if gzip else "")
    return records.batch(batch_size)


def read_batches(
    file_pattern: list[str],
    tft_output: tft.TFTransformOutput,
    data_kind: str = HParams.data_kind,
    batch_size: int = LOAD_BATCH_SIZE,
) -> Iterator[RowBatch]:
    """Reads raw examples and applies the TFT graph in batches of ``batch_size`` rows:
    the model inputs, labels, UTC times and approaches of each batch, once.

    Each batch is parsed and transformed by ``batch_transform``, which tf.data runs on
    ``LOAD_PARALLEL_BATCHES`` batches at once, in order. TFXIO's ``TensorFlowDataset``
    parses on one thread whatever its ``parser_num_threads`` (tfx_bsl 1.16), which made
    parsing the whole load's bottleneck (``benchmarks/bench_trainer.py`` times both).
    """
    dataset = raw_examples(file_pattern, batch_size).map(
        batch_transform(tft_output, data_kind),
        num_parallel_calls=LOAD_PARALLEL_BATCHES,
        deterministic=True,
    )
    for outputs in dataset.prefetch(1):
        yield row_batch(*(tf.nest.map_structure(lambda t: t.numpy(), outputs)))


def batch_transform(
    tft_output: tft.TFTransformOutput, data_kind: str
) -> Callable[[tf.Tensor], tuple[Any, Any, tf.Tensor, tf.Tensor]]:
    """A function of a batch of serialized tf.Examples: their model inputs, labels,
    distinct approaches (intersection NUL direction) and UTC times.

    Parses (``tf.io.parse_example`` with the raw feature spec TFT recorded, only the
    features training needs) and applies the TFT graph, the same in the Trainer's
    process and in a Beam worker (``transforms.beam_rows``).
    """
    names = (*features.TRAINING_RAW_FEATURES_BY_KIND[data_kind], features.TIMESTAMP_UTC)
    raw_spec = tft_output.raw_feature_spec()
    missing = set(names) - set(raw_spec)
    if missing:
        raise ValueError(f"raw schema lacks features the Trainer needs: {sorted(missing)}")
    spec = {name: raw_spec[name] for name in names}
    tft_layer = tft_output.transform_features_layer()

    def transform(serialized: tf.Tensor) -> tuple[Any, Any, tf.Tensor, tf.Tensor]:
        raw = tf.io.parse_example(serialized, spec)
        inputs, labels = split_labels(tft_layer(raw), data_kind)
        approach = tf.strings.join(
            [
                tf.reshape(raw[features.INTERSECTION], [-1]),
                tf.reshape(raw[features.DIRECTION], [-1]),
            ],
            separator=APPROACH_SEPARATOR,
        )
        return inputs, labels, tf.unique(approach).y, tf.reshape(raw[features.TIMESTAMP_UTC], [-1])

    # Traced as written: AutoGraph would rewrite the TFT layer's internals first (seconds).
    return tf.autograph.experimental.do_not_convert(transform)


def row_batch(
    inputs: dict[str, np.ndarray],
    labels: dict[str, np.ndarray],
    approaches: np.ndarray,
    timestamps: np.ndarray,
) -> RowBatch:
    """A ``RowBatch`` of ``batch_transform``'s outputs as numpy arrays."""
    return RowBatch(
        inputs,
        labels,
        timestamps.astype(np.int64),
        {tuple(a.decode().split(APPROACH_SEPARATOR, 1)) for a in approaches},
    )
