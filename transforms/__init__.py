"""Feature contract, TFT preprocessing and the Keras model for traffic embeddings."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
