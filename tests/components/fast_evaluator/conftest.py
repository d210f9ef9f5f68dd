"""Reuses the real TFT pass and trained model of tests/transforms."""

from tests.transforms.conftest import cold_model, tft_run  # noqa: F401
