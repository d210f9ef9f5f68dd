"""TrafficExampleGen: a Beam ExampleGen for per-vehicle observation files.

Reads daily ``YYYY-MM-DD.csv|.csv.gz|.parquet`` files, derives local day/hour and the
``seconds_to_next_vehicle`` label, and writes a stock ``Examples`` artifact plus a
``TrafficRejects`` artifact that accounts for every unusable row.
"""
