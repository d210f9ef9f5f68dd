"""``traffic-pipeline import``: real hourly count exports turned into daily counts files."""
