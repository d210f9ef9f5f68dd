"""Runners: local (LocalDagRunner + SQLite MLMD) and Kubeflow v2 / Vertex AI."""
