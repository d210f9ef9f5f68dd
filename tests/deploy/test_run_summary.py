"""The run summary's rows line: same-second vehicles and vehicles unlabeled before a
missing day are reported only when there are some."""

from __future__ import annotations

from components.traffic_example_gen import accounting as acc
from deploy.runners.local.run_summary import RunSummary, format_summary

COUNTS = {
    acc.ROWS_READ: 10,
    acc.EXAMPLES_TRAIN: 6,
    acc.EXAMPLES_EVAL: 2,
    acc.REJECTED_TOTAL: 1,
    acc.rejected_key(acc.DUPLICATE): 1,
    acc.UNLABELED_LAST_VEHICLES: 1,
}


def _rows_line(counts: dict) -> str:
    text = format_summary(RunSummary(run_id="r", row_counts=counts))
    [line] = [line for line in text.splitlines() if line.startswith("  rows read")]
    return line


def test_same_second_vehicles_are_shown_when_kept():
    line = _rows_line({**COUNTS, acc.SAME_SECOND_VEHICLES_KEPT: 3})
    assert line.endswith("unlabeled last vehicles 1, same-second vehicles kept 3")


def test_no_same_second_vehicles_leaves_the_line_as_before():
    for counts in (COUNTS, {**COUNTS, acc.SAME_SECOND_VEHICLES_KEPT: 0}):
        assert _rows_line(counts).endswith("unlabeled last vehicles 1")


def test_vehicles_before_a_missing_day_are_shown_when_there_are_some():
    line = _rows_line({**COUNTS, acc.UNLABELED_BEFORE_GAP: 4, acc.SAME_SECOND_VEHICLES_KEPT: 3})
    assert line.endswith(
        "unlabeled last vehicles 1, unlabeled before a missing day or a cut 4, "
        "same-second vehicles kept 3"
    )
    assert _rows_line({**COUNTS, acc.UNLABELED_BEFORE_GAP: 0}).endswith("unlabeled last vehicles 1")
