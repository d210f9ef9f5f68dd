"""Checks the input of a run before any row is parsed: files, headers, split days.

The executor calls ``check_inputs`` first; the local CLI calls it too, before starting
the pipeline, so that bad input is reported (exit code 2) without running anything.
"""

from __future__ import annotations

from components.traffic_example_gen import reading
from components.traffic_example_gen.spans import DailyFile, describe_range, list_daily_files
from components.traffic_example_gen.splits import SplitRule, make_split_rule


def check_inputs(
    input_base: str, span_begin: str, span_end: str, split_config: str
) -> tuple[list[DailyFile], SplitRule]:
    """The selected daily files and the split rule; raises ValueError naming the problem.

    Each file must be readable with the required columns (``reading.check_file``).
    Only days whose file has data rows count for the time split, so an empty
    (header-only) day never takes a train or eval day.
    """
    files = list_daily_files(input_base, span_begin, span_end)
    days_with_rows = [f.day for f in files if reading.check_file(f)]
    if not days_with_rows:
        raise ValueError(
            f"no data rows in the {len(files)} input file(s) of "
            f"{describe_range(input_base, span_begin, span_end)}"
        )
    return files, make_split_rule(split_config, days_with_rows)
