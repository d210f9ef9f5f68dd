"""Benchmarks: run from the repo root as python -m benchmarks.<name>; each prints its figures."""
