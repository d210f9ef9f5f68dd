"""Input data: the synthetic generator, the importers, the SUMO simulation, and the atomic
output writer (``output``) they share."""
