"""The Trainer is reproducible and never reads the eval split.

Two trainings on the same train rows, written in a different order and sharding, with
different eval rows, must give a bit-identical model: each row's place in training
comes from its content and the seed (``transforms.row_order``), and early stopping
watches rows held out of the train split, not the eval split. How rows are held out
and ordered is tested on plain columns in ``test_training_rows.py``.
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
from transforms.trainer import train_and_export


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
