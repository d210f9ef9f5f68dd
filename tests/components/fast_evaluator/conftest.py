"""Reuses the real TFT passes and trained models of tests/transforms."""

from tests.transforms.conftest import (  # noqa: F401
    cold_model,
    counts_model,
    counts_tft_run,
    tft_run,
)
