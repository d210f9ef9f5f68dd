"""Per-city config, pipeline wiring, TFMA config, schema and the exit-code contract."""
