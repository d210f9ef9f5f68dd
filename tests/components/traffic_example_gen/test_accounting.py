"""Accounting identity and the reject-threshold message."""

from __future__ import annotations

import pytest

from components.traffic_example_gen import accounting as acc


def test_identity_holds_and_breaks():
    counts = {
        acc.ROWS_READ: 10,
        acc.EXAMPLES_TRAIN: 5,
        acc.EXAMPLES_EVAL: 2,
        acc.rejected_key(acc.DUPLICATE): 1,
        acc.rejected_key(acc.MISSING_FIELD): 1,
        acc.UNLABELED_LAST_VEHICLES: 1,
    }
    summary = acc.summarize(counts)
    assert summary[acc.REJECTED_TOTAL] == 2
    assert summary[acc.rejected_key(acc.UNKNOWN_DIRECTION)] == 0
    acc.check_identity(summary)
    with pytest.raises(RuntimeError, match="row accounting is broken: rows_read=11"):
        acc.check_identity({**summary, acc.ROWS_READ: 11})
    # vehicles unlabeled before a missing day are accounted for too
    gap = acc.summarize({**counts, acc.ROWS_READ: 12, acc.UNLABELED_BEFORE_GAP: 2})
    assert gap[acc.UNLABELED_BEFORE_GAP] == 2
    acc.check_identity(gap)
    with pytest.raises(RuntimeError, match=r"\+ unlabeled_before_gap = 12"):
        acc.check_identity({**gap, acc.ROWS_READ: 13})


def test_merge_counts_sums():
    assert acc.merge_counts([{"a": 1}, {"a": 2, "b": 1}, {}]) == {"a": 3, "b": 1}


def test_threshold_names_worst_file_and_reason():
    counts = acc.merge_counts(
        [
            {acc.ROWS_READ: 100},
            {
                acc.rejected_key(acc.UNKNOWN_DIRECTION): 3,
                acc.file_rejected_key(acc.UNKNOWN_DIRECTION, "gs://b/2026-03-01.csv"): 3,
            },
            {
                acc.rejected_key(acc.MISSING_FIELD): 4,
                acc.file_rejected_key(acc.MISSING_FIELD, "gs://b/2026-03-02.csv"): 1,
                acc.file_rejected_key(acc.MISSING_FIELD, "gs://b/2026-03-01.csv"): 3,
            },
        ]
    )
    acc.check_reject_fraction(counts, 0.07, "/rejects")  # 7% is allowed
    with pytest.raises(
        ValueError,
        match=r"7 of 100 rows rejected.*Worst file: "
        r"gs://b/2026-03-01.csv with 6 rejects, most often 'missing_field' \(3",
    ):
        acc.check_reject_fraction(counts, 0.05, "/rejects")
