"""Reuses the real TFT passes and trained models of tests/transforms; an untrained
export of the same events model is the baseline that differs from the candidate."""

from __future__ import annotations

import pytest

from tests.components.fast_evaluator.helpers import model_artifact, untrained_model_artifact
from tests.transforms.conftest import (  # noqa: F401
    TEST_CONFIG,
    cold_model,
    counts_model,
    counts_tft_run,
    tft_run,
)


@pytest.fixture(scope="module")
def model_artifact_uri(cold_model, tmp_path_factory) -> str:  # noqa: F811
    """The trained events model."""
    return model_artifact(cold_model.fn_args.serving_model_dir, tmp_path_factory, "model")


@pytest.fixture(scope="module")
def untrained_artifact_uri(tft_run, tmp_path_factory) -> str:  # noqa: F811
    """The events model with its initial weights: a baseline unlike the candidate."""
    return untrained_model_artifact(tft_run, TEST_CONFIG, tmp_path_factory, "untrained")
