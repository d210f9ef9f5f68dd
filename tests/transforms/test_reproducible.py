"""The Trainer is reproducible and never reads the eval split.

Two trainings on the same train rows, written in a different order and sharding, with
different eval rows, must give a bit-identical model: the rows are put in a stable
order by content before the seeded shuffle, and early stopping watches rows held out
of the train split (``carve_validation``), not the eval split.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from tests.transforms.conftest import (
    TEST_CONFIG,
    TftRun,
    make_fn_args,
    serialize,
    synthetic_examples,
)
from transforms import features
from transforms.trainer import InMemorySplit, carve_validation, train_and_export


def _write_split(directory, rows: list[dict], shards: int) -> None:
    directory.mkdir(parents=True)
    for shard in range(shards):
        path = str(directory / f"data_tfrecord-{shard:05d}-of-{shards:05d}.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for row in rows[shard::shards]:
                writer.write(serialize(row))


def _reordered_run(tft_run: TftRun, tmp_path, eval_rows: list[dict]) -> TftRun:
    """The same train rows, shuffled and split into 3 files, beside other eval rows."""
    raw = tmp_path / "raw_examples"
    order = np.random.default_rng(11).permutation(len(tft_run.train_rows))
    _write_split(raw / "Split-train", [tft_run.train_rows[i] for i in order], shards=3)
    _write_split(raw / "Split-eval", eval_rows, shards=1)
    return dataclasses.replace(tft_run, raw_examples_dir=str(raw), eval_rows=eval_rows)


def test_same_train_rows_in_another_order_with_other_eval_rows_give_the_same_model(
    tft_run, cold_model, tmp_path
):
    other_eval = synthetic_examples(500, seed=99)  # nothing in common with the eval split
    reordered = _reordered_run(tft_run, tmp_path, other_eval)
    again = train_and_export(make_fn_args(reordered, tmp_path / "again", TEST_CONFIG))
    first = cold_model.model.get_weights()
    second = again.get_weights()
    assert len(first) == len(second)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)  # bit-identical, not merely close


def test_a_different_seed_gives_a_different_model(tft_run, cold_model, tmp_path):
    # The comparison above can fail: the weights do depend on the training run.
    other = train_and_export(make_fn_args(tft_run, tmp_path, {**TEST_CONFIG, "seed": 4}))
    changed = [
        not np.array_equal(a, b)
        for a, b in zip(cold_model.model.get_weights(), other.get_weights(), strict=True)
    ]
    assert any(changed)


def _split(rows: int, seed: int = 0) -> InMemorySplit:
    rng = np.random.default_rng(seed)
    return InMemorySplit(
        inputs={features.APPROACH_XF: rng.integers(0, 50, rows)},
        labels={
            features.HEADWAY_OUTPUT: rng.exponential(10.0, rows).astype(np.float32),
            features.VEHICLE_TYPE_OUTPUT: rng.integers(0, 4, rows),
        },
        timestamps=1_773_619_200 + rng.integers(0, 86_400 * 21, rows),
    )


def test_carve_validation_holds_out_a_seeded_fraction_whatever_the_row_order():
    split = _split(20_000)
    train, validation = carve_validation(split, 0.1, seed=7)
    assert train.rows + validation.rows == split.rows
    assert 0.09 < validation.rows / split.rows < 0.11

    def keys(part: InMemorySplit) -> set:
        headways = part.labels[features.HEADWAY_OUTPUT].tolist()
        return set(zip(part.timestamps.tolist(), headways, strict=True))

    assert not keys(train) & keys(validation)
    shuffled = split.take(np.random.default_rng(3).permutation(split.rows))
    _, validation_again = carve_validation(shuffled, 0.1, seed=7)
    assert keys(validation_again) == keys(validation)
    _, other_seed = carve_validation(split, 0.1, seed=8)
    assert keys(other_seed) != keys(validation)


def test_carve_validation_keeps_rows_on_both_sides_of_a_tiny_split():
    train, validation = carve_validation(_split(2), 0.1, seed=7)
    assert train.rows == 1 and validation.rows == 1
