"""Running the pipeline: ``local`` (LocalDagRunner) and ``kubeflow`` (Kubeflow v2 / Vertex AI)."""
