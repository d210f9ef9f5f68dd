"""Realistic synthetic multi-city traffic observations (``traffic-pipeline generate``)."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
