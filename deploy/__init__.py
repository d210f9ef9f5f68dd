"""Runners: local (LocalDagRunner + SQLite MLMD) and Kubeflow v2 / Vertex AI."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)
