"""Custom TFX components of the traffic-embedding pipeline."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
