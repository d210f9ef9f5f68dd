"""Per-city config, pipeline wiring, synthetic data and the CLI."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
