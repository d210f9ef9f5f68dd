"""The edge: the CLI, runners (local and Kubeflow v2 / Vertex AI), synthetic data, insights."""
