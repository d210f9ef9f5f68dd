"""Realistic synthetic multi-city traffic observations (``traffic-pipeline generate``)."""
