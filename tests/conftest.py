"""Test session set-up: pin Keras 2 before any test module imports TensorFlow."""

from transforms import keras_mode

keras_mode.use_legacy_keras()
