"""Pure helpers: read TFDV anomalies and describe them in one readable message."""

from __future__ import annotations

import os

import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2

ANOMALIES_FILE = "SchemaDiff.pb"


class DataAnomalyError(RuntimeError):
    """The examples do not match the schema; the message names each anomaly."""


def load_anomalies(split_dir: str) -> anomalies_pb2.Anomalies:
    """Loads the binary Anomalies proto ExampleValidator wrote for one split."""
    anomalies = anomalies_pb2.Anomalies()
    with tf.io.gfile.GFile(os.path.join(split_dir, ANOMALIES_FILE), "rb") as f:
        anomalies.ParseFromString(f.read())
    return anomalies


def describe_anomalies(split: str, anomalies: anomalies_pb2.Anomalies) -> list[str]:
    """One line per anomalous feature (and the dataset), e.g. ``eval: vehicle_type: ...``."""
    lines = []
    for feature, info in sorted(anomalies.anomaly_info.items()):
        reasons = (
            "; ".join(
                f"{r.short_description} ({r.description})" if r.description else r.short_description
                for r in info.reason
            )
            or info.short_description
        )
        lines.append(f"{split}: feature '{feature}': {reasons}")
    if anomalies.HasField("dataset_anomaly_info"):
        info = anomalies.dataset_anomaly_info
        lines.append(f"{split}: dataset: {info.short_description} {info.description}".strip())
    return lines
