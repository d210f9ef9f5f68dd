"""Pipeline and component names: importable without TFX (MLMD queries, ``lineage``)."""

from __future__ import annotations

# Stable component ids: MLMD queries, the CLI summary and tests use these names.
EXAMPLE_GEN = "TrafficExampleGen"
STATISTICS_GEN = "StatisticsGen"
SCHEMA_GEN = "SchemaGen"
EXAMPLE_VALIDATOR = "ExampleValidator"
TRANSFORM = "Transform"
WARM_START_IMPORTER = "WarmStartModelImporter"
TRAINER = "Trainer"
BASELINE_RESOLVER = "LatestBlessedModelResolver"
DRIFT_GATE = "DriftGate"
DRIFT_BASELINE_RESOLVER = "DriftBaselineResolver"
EVALUATOR = "Evaluator"
PUSHER = "Pusher"


def pipeline_name(city: str) -> str:
    """One pipeline (and so one MLMD pipeline context) per city."""
    return f"traffic-embeddings-{city}"
