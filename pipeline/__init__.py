"""Per-city config, pipeline wiring, synthetic data and the CLI."""
