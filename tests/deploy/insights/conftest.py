"""Small real models for the insights tests: the Trainer fixtures of tests/transforms."""

from __future__ import annotations

import pytest

from tests.transforms.conftest import (  # noqa: F401  (re-exported pytest fixtures)
    TEST_CONFIG,
    TrainedModel,
    cold_model,
    counts_model,
    counts_tft_run,
    make_fn_args,
    tft_run,
)


@pytest.fixture(scope="session")
def other_model(tft_run, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:  # noqa: F811
    """A second model on the same data with another seed: a city to compare with."""
    from transforms.trainer import train_and_export

    config = {**TEST_CONFIG, "seed": 11, "city": "otherville"}
    fn_args = make_fn_args(tft_run, tmp_path_factory.mktemp("other"), config)
    return TrainedModel(fn_args, train_and_export(fn_args))


@pytest.fixture(scope="session")
def model_dir(cold_model) -> str:  # noqa: F811
    """The cold model's serving dir (SavedModel, embedding files, approaches.json)."""
    return cold_model.fn_args.serving_model_dir
