"""The edge: the CLI, runners (local and Kubeflow v2 / Vertex AI), synthetic data, insights."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
