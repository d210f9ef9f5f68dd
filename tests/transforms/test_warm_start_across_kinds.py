"""Warm start across data kinds: events and counts models share the day x hour table.

The real Trainer (``train_and_export``) trains a receiver of one kind from a donor of
the other, frozen (table bit-identical to the donor's) and fine_tune (table moved).
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.transforms.conftest import COUNTS_TEST_CONFIG, TEST_CONFIG, make_fn_args
from transforms import features
from transforms.model import day_hour_table
from transforms.trainer import train_and_export


def _checkpoint_table(model_dir: str) -> np.ndarray:
    reader = tf.train.load_checkpoint(os.path.join(model_dir, "variables", "variables"))
    return reader.get_tensor(features.EMBEDDING_CHECKPOINT_KEY)


def _spec(model_dir: str) -> dict:
    with open(os.path.join(model_dir, features.EMBEDDING_SPEC_FILE)) as f:
        return json.load(f)


@pytest.fixture(params=["events_to_counts", "counts_to_events"])
def direction(request, cold_model, counts_model, tft_run, counts_tft_run):
    """(donor model dir, receiver's TFT run, receiver's config, donor kind, receiver kind)."""
    if request.param == "events_to_counts":
        return (
            cold_model.fn_args.serving_model_dir,
            counts_tft_run,
            {**COUNTS_TEST_CONFIG, "train_steps": 60},
            features.DATA_KIND_EVENTS,
            features.DATA_KIND_COUNTS,
        )
    return (
        counts_model.fn_args.serving_model_dir,
        tft_run,
        TEST_CONFIG,
        features.DATA_KIND_COUNTS,
        features.DATA_KIND_EVENTS,
    )


@pytest.mark.parametrize("mode", ["frozen", "fine_tune"])
def test_warm_start_from_a_donor_of_the_other_kind(direction, mode, tmp_path):
    donor_dir, tft_run, config, donor_kind, receiver_kind = direction
    donor = _checkpoint_table(donor_dir)
    assert _spec(donor_dir)["data_kind"] == donor_kind
    receiver_config = {**config, "city": "receiver", "warm_start_mode": mode, "seed": 21}
    fn_args = make_fn_args(tft_run, tmp_path, receiver_config, base_model=donor_dir)
    model = train_and_export(fn_args)

    exported = _checkpoint_table(fn_args.serving_model_dir)
    np.testing.assert_array_equal(exported, day_hour_table(model))
    if mode == "frozen":
        np.testing.assert_array_equal(exported, donor)
    else:
        assert np.max(np.abs(exported - donor)) > 1e-4
    with open(os.path.join(fn_args.serving_model_dir, features.WARM_START_FILE)) as f:
        record = json.load(f)
    assert (record["mode"], record["donor"]) == (mode, donor_dir)
    # The receiver's initial table was the donor's, bit for bit.
    assert record["initial_embedding_sha256"] == record["donor_embedding_sha256"]
    assert _spec(fn_args.serving_model_dir)["data_kind"] == receiver_kind
    # Its own outputs: the receiver's serving signature works as for any model.
    served = tf.saved_model.load(fn_args.serving_model_dir).signatures["serving_default"]
    example = tf.train.Example()
    example.features.feature[features.DAY_OF_WEEK].int64_list.value.append(1)
    example.features.feature[features.HOUR].int64_list.value.append(8)
    example.features.feature[features.INTERSECTION].bytes_list.value.append(b"X000")
    example.features.feature[features.DIRECTION].bytes_list.value.append(b"N")
    out = served(examples=tf.constant([example.SerializeToString()]))
    assert np.all(out[features.VEHICLES_PER_HOUR_OUTPUT].numpy() > 0)
