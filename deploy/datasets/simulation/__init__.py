"""SUMO as a data source and proving ground: networks, demand, simulated days, signal plans."""
