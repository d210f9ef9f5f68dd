"""Warm start from a donor model: frozen, fine_tune, and every way a donor is rejected."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tests.transforms.conftest import TEST_CONFIG, make_fn_args
from transforms import features
from transforms.model import HParams, build_model, day_hour_table
from transforms.trainer import train_and_export
from transforms.warm_start import WarmStartError, load_donor_embedding, resolve_saved_model_dir

SERVING_SUBDIR = "Format-Serving"  # TFX's Model artifact layout, written out independently


def _donor_table(model_dir: str) -> np.ndarray:
    reader = tf.train.load_checkpoint(os.path.join(model_dir, "variables", "variables"))
    return reader.get_tensor(features.EMBEDDING_CHECKPOINT_KEY)


def _artifact_layout(cold_model, tmp_path) -> str:
    """A copy of the donor as a TFX Model artifact: <uri>/Format-Serving/saved_model.pb."""
    uri = tmp_path / "donor_artifact"
    shutil.copytree(cold_model.fn_args.serving_model_dir, uri / SERVING_SUBDIR)
    return str(uri)


def _donor_copy(cold_model, tmp_path) -> str:
    path = tmp_path / "donor_copy"
    shutil.copytree(cold_model.fn_args.serving_model_dir, path)
    return str(path)


def test_frozen_keeps_the_donor_table_bit_identical(cold_model, tft_run, tmp_path):
    base_model = _artifact_layout(cold_model, tmp_path)
    donor = _donor_table(cold_model.fn_args.serving_model_dir)
    config = {**TEST_CONFIG, "city": "frankfurt", "warm_start_mode": "frozen", "seed": 11}
    fn_args = make_fn_args(tft_run, tmp_path / "frozen", config, base_model=base_model)
    model = train_and_export(fn_args)

    np.testing.assert_array_equal(day_hour_table(model), donor)
    np.testing.assert_array_equal(_donor_table(fn_args.serving_model_dir), donor)
    with open(os.path.join(fn_args.serving_model_dir, features.WARM_START_FILE)) as f:
        record = json.load(f)
    assert record["mode"] == "frozen"
    assert record["donor"] == os.path.join(base_model, SERVING_SUBDIR)
    assert record["donor_city"] == "testville"


def test_fine_tune_starts_at_the_donor_and_moves(cold_model, tft_run, tmp_path):
    donor_dir = cold_model.fn_args.serving_model_dir
    donor = _donor_table(donor_dir)
    config = {**TEST_CONFIG, "warm_start_mode": "fine_tune", "seed": 12}
    hparams = HParams.from_custom_config(config)
    loaded = load_donor_embedding(donor_dir, hparams.embedding_spec())
    start = build_model(hparams, day_hour_initial_weights=loaded.table)
    np.testing.assert_array_equal(day_hour_table(start), donor)

    fn_args = make_fn_args(tft_run, tmp_path / "fine", config, base_model=donor_dir)
    tuned = day_hour_table(train_and_export(fn_args))
    assert not np.array_equal(tuned, donor)
    assert np.max(np.abs(tuned - donor)) > 1e-4
    with open(os.path.join(fn_args.serving_model_dir, features.WARM_START_FILE)) as f:
        assert json.load(f)["mode"] == "fine_tune"


def test_warm_start_without_base_model_is_an_error(tft_run, tmp_path):
    config = {**TEST_CONFIG, "warm_start_mode": "frozen"}
    with pytest.raises(WarmStartError, match="no base_model"):
        train_and_export(make_fn_args(tft_run, tmp_path, config, base_model=None))


def test_donor_with_other_cross_buckets_is_rejected(cold_model, tmp_path):
    donor_dir = _donor_copy(cold_model, tmp_path)
    spec_path = os.path.join(donor_dir, features.EMBEDDING_SPEC_FILE)
    with open(spec_path) as f:
        spec = json.load(f)
    with open(spec_path, "w") as f:
        json.dump({**spec, "cross_buckets": 168}, f)
    receiver = HParams.from_custom_config(TEST_CONFIG).embedding_spec()
    with pytest.raises(WarmStartError) as err:
        load_donor_embedding(donor_dir, receiver)
    assert f"cross_buckets: donor 168 != this model {features.DEFAULT_CROSS_BUCKETS}" in str(
        err.value
    )


def test_donor_with_other_embedding_dim_is_rejected(cold_model):
    receiver = HParams.from_custom_config({**TEST_CONFIG, "embedding_dim": 3}).embedding_spec()
    with pytest.raises(WarmStartError, match="embedding_dim: donor 2 != this model 3"):
        load_donor_embedding(cold_model.fn_args.serving_model_dir, receiver)


def test_donor_without_embedding_spec_is_rejected(cold_model, tmp_path):
    donor_dir = _donor_copy(cold_model, tmp_path)
    os.remove(os.path.join(donor_dir, features.EMBEDDING_SPEC_FILE))
    receiver = HParams.from_custom_config(TEST_CONFIG).embedding_spec()
    with pytest.raises(WarmStartError, match=features.EMBEDDING_SPEC_FILE):
        load_donor_embedding(donor_dir, receiver)


def test_donor_without_the_checkpoint_key_is_rejected(cold_model, tmp_path):
    donor_dir = tmp_path / "plain_keras"
    model = tf.keras.Sequential([tf.keras.layers.Embedding(10, 2, input_shape=(1,))])
    model.save(donor_dir, save_format="tf")
    shutil.copy(
        os.path.join(cold_model.fn_args.serving_model_dir, features.EMBEDDING_SPEC_FILE),
        donor_dir / features.EMBEDDING_SPEC_FILE,
    )
    receiver = HParams.from_custom_config(TEST_CONFIG).embedding_spec()
    with pytest.raises(WarmStartError, match="has no"):
        load_donor_embedding(str(donor_dir), receiver)


def test_resolve_accepts_both_layouts_and_rejects_others(cold_model, tmp_path):
    serving_dir = cold_model.fn_args.serving_model_dir
    assert resolve_saved_model_dir(serving_dir) == serving_dir
    uri = _artifact_layout(cold_model, tmp_path)
    assert resolve_saved_model_dir(uri) == os.path.join(uri, SERVING_SUBDIR)
    with pytest.raises(WarmStartError, match=r"no saved_model\.pb"):
        resolve_saved_model_dir(str(tmp_path / "empty"))
