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
