"""Kubeflow Pipelines v2 / Vertex AI: compile the pipeline, build and send submit requests."""
