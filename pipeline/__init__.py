"""Per-city config, pipeline wiring, TFMA config, schema and the exit-code contract."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
