"""The duplicate rule end to end (real Beam): plausible vehicles are never rejected.

Two vehicles of one approach in the same second are both kept when they differ in
any column (vehicle type, sub-second time, lane, speed) and are counted as
``same_second_vehicles_kept``; an exact copy is rejected under ``exact`` (the
default) and kept as a vehicle under ``keep``.
"""

from __future__ import annotations

import pytest

from components.traffic_example_gen import accounting as acc
from components.traffic_example_gen import executor
from tests.components.traffic_example_gen.helpers import (
    int_properties,
    read_examples,
    read_rejects,
    run_executor,
    write_csv,
)
from transforms import features as f

DAY_1 = [
    ("2026-03-28T08:00:00Z", "A", "N", "car", 1, 30),  # row 1
    ("2026-03-28T08:00:00Z", "A", "N", "bus", 1, 30),  # 2 same second, other type
    ("2026-03-28T08:00:10.200Z", "A", "N", "car", 1, 30),  # 3
    ("2026-03-28T08:00:10.700Z", "A", "N", "car", 1, 30),  # 4 same second, other sub-second
    ("2026-03-28T08:00:20Z", "A", "N", "car", 2, 30),  # 5
    ("2026-03-28T08:00:20Z", "A", "N", "car", 2, 30),  # 6 exact copy of row 5
    ("2026-03-28T08:00:20Z", "A", "S", "car", 2, 30),  # 7 same instant, other approach
]
DAY_2 = [("2026-03-29T09:00:00Z", "A", "N", "car", 1, 30)]


def _run(tmp_path, **params):
    data = tmp_path / "in"
    data.mkdir()
    write_csv(data / "2026-03-28.csv", DAY_1)
    write_csv(data / "2026-03-29.csv", DAY_2)
    examples, rejects = run_executor(data, tmp_path / "out", max_reject_fraction=1.0, **params)
    props = int_properties(examples)
    assert props == int_properties(rejects)
    assert props[acc.ROWS_READ] == len(DAY_1) + len(DAY_2)
    assert (
        props[acc.EXAMPLES_TRAIN]
        + props[acc.EXAMPLES_EVAL]
        + props[acc.REJECTED_TOTAL]
        + props[acc.UNLABELED_LAST_VEHICLES]
    ) == props[acc.ROWS_READ]
    rows = read_examples(examples, "train") + read_examples(examples, "eval")
    a_north = sorted(
        (r[f.TIMESTAMP_UTC], r[f.SECONDS_TO_NEXT_VEHICLE], r[f.VEHICLE_TYPE])
        for r in rows
        if (r[f.INTERSECTION], r[f.DIRECTION]) == ("A", "N")
    )
    return examples, props, a_north, read_rejects(rejects)


@pytest.mark.parametrize("params", [{}, {executor.DUPLICATES_KEY: acc.DUPLICATES_EXACT}])
def test_exact_rule_keeps_same_second_vehicles_and_rejects_exact_copies(tmp_path, params):
    examples, props, a_north, rejects = _run(tmp_path, **params)
    path = str(tmp_path / "in" / "2026-03-28.csv")
    assert [(r["file"], r["row"], r["reason"]) for r in rejects] == [(path, 6, acc.DUPLICATE)]
    assert rejects[0]["value"] == f"identical to {path} row 5"
    assert props[acc.rejected_key(acc.DUPLICATE)] == props[acc.REJECTED_TOTAL] == 1
    # Rows 1+2 and 3+4 share a second; both of each pair are examples.
    assert props[acc.SAME_SECOND_VEHICLES_KEPT] == 2
    assert [label for _, label, _ in a_north] == pytest.approx([0.0, 10.2, 0.5, 9.3, 89_980.0])
    assert {vehicle for *_, vehicle in a_north[:2]} == {"car", "bus"}
    assert examples.get_string_custom_property(executor.DUPLICATES_KEY) == acc.DUPLICATES_EXACT


def test_keep_rule_rejects_nothing_and_counts_the_copy(tmp_path):
    examples, props, a_north, rejects = _run(tmp_path, **{executor.DUPLICATES_KEY: "keep"})
    assert rejects == [] and props[acc.REJECTED_TOTAL] == 0
    assert props[acc.SAME_SECOND_VEHICLES_KEPT] == 3  # rows 2, 4 and the copy 6
    labels = [label for _, label, _ in a_north]
    assert labels == pytest.approx([0.0, 10.2, 0.5, 9.3, 0.0, 89_980.0])
    assert examples.get_string_custom_property(executor.DUPLICATES_KEY) == acc.DUPLICATES_KEEP


def test_unknown_duplicate_rule_fails_before_reading(tmp_path):
    with pytest.raises(ValueError, match=r"duplicates: 'first' not in \('exact', 'keep'\)"):
        _run(tmp_path, **{executor.DUPLICATES_KEY: "first"})
