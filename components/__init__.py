"""Custom TFX components of the traffic-embedding pipeline."""

from transforms import keras_mode as _keras_mode  # noqa: F401  (must run before TF)

# isort: split
# Custom artifact types, importable as components.<Class> (their Kubeflow V2 type names).
from components.traffic_example_gen.artifacts import TrafficRejects

__all__ = ["TrafficRejects"]
