"""Custom TFX components of the traffic-embedding pipeline."""

__all__ = ["TrafficRejects"]


def __getattr__(name: str):
    """Custom artifact types, importable as ``components.<Class>`` (their Kubeflow V2
    type names), loaded lazily so Beam workers unpickling a DoFn do not import TFX/TF."""
    if name == "TrafficRejects":
        from components.traffic_example_gen.component import TrafficRejects

        return TrafficRejects
    raise AttributeError(f"module 'components' has no attribute {name!r}")
