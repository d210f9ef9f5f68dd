"""Slab labeling (many approaches, day groups, day tails) agrees with the pandas oracle."""

from __future__ import annotations

import datetime

import numpy as np
import pytest

from components.traffic_example_gen.accounting import DUPLICATE_RULES
from components.traffic_example_gen.accounting import DUPLICATES_EXACT as EXACT
from components.traffic_example_gen.chunks import MICROS_PER_DAY, NO_LANE, Chunk, Slab
from components.traffic_example_gen.labels import (
    approach_shards,
    label_day_slab,
    missing_days_before,
    resolve_slab_tails,
    same_second_vehicles,
    sort_and_dedup_slab,
)
from tests.components.traffic_example_gen import reference_labels as oracle

IDS = np.array(["B", "A", "C"], dtype=object)
# Three files with consecutive days, as most runs have.
CONSECUTIVE = [datetime.date(2026, 3, d) for d in (1, 2, 3)]


def _slab(n: int, seed: int, day: int = 0, file_index: int | None = None) -> Slab:
    """Random rows of UTC day ``day``, in random files 0-2 unless ``file_index``."""
    rng = np.random.default_rng(seed)
    ts = day * MICROS_PER_DAY + rng.integers(0, 50, n) * 1_000_000  # many ties
    chunk = Chunk(
        ts_us=ts.astype(np.int64),
        vehicle_type=rng.integers(0, 2, n).astype(np.int8),
        lane=np.where(rng.random(n) < 0.5, NO_LANE, 1).astype(np.int64),
        speed=np.where(rng.random(n) < 0.5, np.nan, 10.0),
        day_of_week=np.zeros(n, np.int8),
        hour=np.zeros(n, np.int8),
        is_eval=np.zeros(n, bool),
        file_index=(rng.integers(0, 3, n) if file_index is None else np.full(n, file_index)).astype(
            np.int32
        ),
        row=rng.permutation(n).astype(np.int64) + 1,
    )
    return Slab.from_strings(IDS[rng.integers(0, 3, n)], rng.integers(0, 2, n), chunk)


def _keys(slab: Slab) -> list[tuple]:
    """(intersection, direction, ts_us, file, row) per row, in the slab's order."""
    frame = oracle.frame_of(slab)
    columns = [*oracle.APPROACH, "ts_us", *oracle.SOURCE]
    return list(frame[columns].itertuples(index=False, name=None))


@pytest.mark.parametrize(
    "file_days",
    [CONSECUTIVE, [datetime.date(2026, 3, d) for d in (1, 2, 4)]],
    ids=["consecutive", "day-3-missing"],
)
def test_day_slab_matches_the_oracle(file_days):
    slab = _slab(400, seed=3)
    kept, duplicates, originals = sort_and_dedup_slab(slab, duplicates=EXACT)
    day = label_day_slab(kept, utc_day=0, gaps=missing_days_before(file_days))
    labeled, labels, tails = day.labeled, day.labels, day.tails
    want = oracle.expected(oracle.frame_of(slab), file_days=file_days)
    assert len(want.duplicates) > 20  # the data really has duplicates and ties
    # one group holding rows of files on both sides of the missing day
    assert day.before_gap == oracle.unlabeled(want.kept)[1]
    assert (day.before_gap > 20) == (file_days != CONSECUTIVE)

    columns = [*oracle.APPROACH, "ts_us", *oracle.SOURCE]
    assert _keys(kept) == list(want.kept[columns].itertuples(index=False, name=None))
    got_dups = sorted(
        (*dup, orig[3], orig[4])
        for dup, orig in zip(_keys(duplicates), _keys(originals), strict=True)
    )
    want_dups = want.duplicates[[*columns, "original_file_index", "original_row"]]
    assert got_dups == sorted(want_dups.itertuples(index=False, name=None))
    assert dict(zip(_keys(labeled), labels.tolist(), strict=True)) == oracle.keyed_labels(want.kept)
    last = want.kept[np.isnan(want.kept["label"]) & ~want.kept["before_gap"]]
    assert sorted(_keys(tails.rows)) == sorted(last[columns].itertuples(index=False, name=None))
    first = want.kept.groupby(oracle.APPROACH).head(1).set_index(oracle.APPROACH)
    got_first = {
        key[:2]: (int(ts), int(file_index))
        for key, ts, file_index in zip(
            _keys(tails.rows), tails.first_ts_us, tails.first_file_index, strict=True
        )
    }
    assert got_first == {
        key: (int(row.ts_us), int(row.file_index)) for key, row in first.iterrows()
    }


def test_labels_across_days_match_the_oracle_on_all_rows():
    # Files for days 5, 6 (header only: a quiet day), 7, 8 and 10: day 9 has no file.
    file_days = [datetime.date(2026, 3, d) for d in (5, 6, 7, 8, 10)]
    gaps = missing_days_before(file_days)
    slabs = {
        day: _slab(60, day, day, file_index=file_days.index(datetime.date(2026, 3, day)))
        for day in (5, 7, 8, 10)
    }
    got: dict[tuple, float] = {}
    tails = []
    for day in (8, 10, 5, 7):  # any order
        labeled_day = label_day_slab(
            sort_and_dedup_slab(slabs[day], duplicates=EXACT)[0], day, gaps
        )
        assert labeled_day.before_gap == 0  # a group holds one file here
        got.update(zip(_keys(labeled_day.labeled), labeled_day.labels.tolist(), strict=True))
        tails.append(labeled_day.tails)
    resolved = resolve_slab_tails(tails, gaps)
    boundary = dict(zip(_keys(resolved.labeled), resolved.labels.tolist(), strict=True))
    assert not boundary.keys() & got.keys()
    got.update(boundary)

    rows = oracle.frame_of(Slab.concat(list(slabs.values())))
    want = oracle.expected(rows, file_days=file_days)
    assert got == oracle.keyed_labels(want.kept)
    # one last vehicle per approach (day 10) and one before the gap (day 8's last)
    assert (resolved.last_vehicles, resolved.before_gap) == oracle.unlabeled(want.kept) == (6, 6)
    assert any(label > 86_400 for label in boundary.values())  # across the quiet day 6
    assert max(boundary.values()) < 2 * 86_400  # never across the missing day 9


@pytest.mark.parametrize("rule", DUPLICATE_RULES)
def test_duplicate_rules_and_same_second_count_match_the_oracle(rule):
    slab = _slab(400, seed=4)
    kept, duplicates, _ = sort_and_dedup_slab(slab, duplicates=rule)
    day = label_day_slab(kept, utc_day=0, gaps=missing_days_before(CONSECUTIVE))
    labeled, labels = day.labeled, day.labels
    want = oracle.expected(oracle.frame_of(slab), file_days=CONSECUTIVE, duplicates=rule)
    columns = [*oracle.APPROACH, "ts_us", *oracle.SOURCE]
    assert _keys(kept) == list(want.kept[columns].itertuples(index=False, name=None))
    assert len(duplicates) == len(want.duplicates)
    assert (len(duplicates) == 0) == (rule == "keep")
    assert len(kept) + len(duplicates) == len(slab)
    assert dict(zip(_keys(labeled), labels.tolist(), strict=True)) == oracle.keyed_labels(want.kept)
    assert same_second_vehicles(kept) == oracle.same_second_vehicles(want.kept) > 20


def test_approach_shards_are_stable_across_vocabularies():
    slab = _slab(50, seed=9)
    shards = approach_shards(slab, 4)
    reordered = Slab.concat(
        [
            Slab(
                np.array(["0"], dtype=object),
                np.zeros(0, np.int32),
                np.zeros(0, np.int8),
                slab.chunk.take(slice(0, 0)),
            ),
            slab,
        ]
    )
    np.testing.assert_array_equal(approach_shards(reordered, 4), shards)
    assert set(shards.tolist()) <= {0, 1, 2, 3} and len(set(shards.tolist())) > 1
