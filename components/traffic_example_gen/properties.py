"""The custom properties ExampleGen writes on its ``Examples`` and ``TrafficRejects``.

One place for the names that readers (``lineage``, the run summary, benchmarks) look up
in ML Metadata, so writer and readers cannot drift apart. Light: no TFX or Beam import.
The row counts are named in ``accounting`` (``rows_read``, ``examples_train``, ...).
"""

from __future__ import annotations

SPAN_BEGIN = "span_begin"  # the run's span parameters, "" when open
SPAN_END = "span_end"
SPLIT_CONFIG = "split_config"  # JSON of the split the run used
FIRST_DAY = "first_day"  # ISO date of the first daily file read
LAST_DAY = "last_day"  # ISO date of the last daily file read
INPUT_FILES = "input_files"  # how many daily files were read
# The rolling window (``window``), set on Examples when ``window_days`` > 0:
WINDOW_DAYS = "window_days"  # N, the window's length in local days
AS_OF = "as_of"  # the --as-of day, "" when the window ended at the newest complete day
WINDOW_FIRST = "window_first"  # ISO first and last day of the resolved window
WINDOW_LAST = "window_last"
MISSING_DAYS = "missing_days"  # JSON list of ISO days of the window without a file
DAYS_INGESTED = "days_ingested"  # days parsed and encoded by this run
DAYS_REUSED = "days_reused"  # days taken from an earlier run (0: not built yet)
# JSON {ISO day: {"file", "size", "sha256"}} of every file read (``fingerprints``).
INPUT_FINGERPRINTS = "input_fingerprints"
# The day cache's pruning at the end of the run (``day_cache.prune``): how many days'
# entries were deleted, and the day before which every entry was.
CACHE_DAYS_PRUNED = "day_cache_days_pruned"
CACHE_PRUNED_BEFORE = "day_cache_pruned_before"
# How a day-cache run ingested its new days: "in_process" (``in_process``: small days,
# no Beam pipeline) or "beam" (``incremental``).
INGEST_PATH = "day_cache_ingest_path"
