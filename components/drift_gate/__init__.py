"""DriftGate: compares the window's statistics with the last blessed run's of the city."""
