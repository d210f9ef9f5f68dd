"""Test session set-up: pin Keras 2 before any test module imports TensorFlow."""

from transforms import keras_mode  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1)
