"""Slab labeling (many approaches, day groups, day tails) agrees with the pandas oracle."""

from __future__ import annotations

import numpy as np
import pytest

from components.traffic_example_gen.accounting import DUPLICATE_RULES
from components.traffic_example_gen.accounting import DUPLICATES_EXACT as EXACT
from components.traffic_example_gen.chunks import MICROS_PER_DAY, NO_LANE, Chunk, Slab
from components.traffic_example_gen.labels import (
    approach_shards,
    label_day_slab,
    resolve_slab_tails,
    same_second_vehicles,
    sort_and_dedup_slab,
)
from tests.components.traffic_example_gen import reference_labels as oracle

IDS = np.array(["B", "A", "C"], dtype=object)


def _slab(n: int, seed: int, day: int = 0) -> Slab:
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
        file_index=rng.integers(0, 3, n).astype(np.int32),
        row=rng.permutation(n).astype(np.int64) + 1,
    )
    return Slab.from_strings(IDS[rng.integers(0, 3, n)], rng.integers(0, 2, n), chunk)


def _keys(slab: Slab) -> list[tuple]:
    """(intersection, direction, ts_us, file, row) per row, in the slab's order."""
    frame = oracle.frame_of(slab)
    columns = [*oracle.APPROACH, "ts_us", *oracle.SOURCE]
    return list(frame[columns].itertuples(index=False, name=None))


def test_day_slab_matches_the_oracle():
    slab = _slab(400, seed=3)
    kept, duplicates, originals = sort_and_dedup_slab(slab, duplicates=EXACT)
    labeled, labels, tails = label_day_slab(kept, utc_day=0)
    want = oracle.expected(oracle.frame_of(slab))
    assert len(want.duplicates) > 20  # the data really has duplicates and ties

    columns = [*oracle.APPROACH, "ts_us", *oracle.SOURCE]
    assert _keys(kept) == list(want.kept[columns].itertuples(index=False, name=None))
    got_dups = sorted(
        (*dup, orig[3], orig[4])
        for dup, orig in zip(_keys(duplicates), _keys(originals), strict=True)
    )
    want_dups = want.duplicates[[*columns, "original_file_index", "original_row"]]
    assert got_dups == sorted(want_dups.itertuples(index=False, name=None))
    assert dict(zip(_keys(labeled), labels.tolist(), strict=True)) == oracle.keyed_labels(want.kept)
    last = want.kept[np.isnan(want.kept["label"])]
    assert sorted(_keys(tails.rows)) == sorted(last[columns].itertuples(index=False, name=None))
    first = want.kept.groupby(oracle.APPROACH)["ts_us"].min()
    got_first = {
        key[:2]: int(ts) for key, ts in zip(_keys(tails.rows), tails.first_ts_us, strict=True)
    }
    assert got_first == {key: int(ts) for key, ts in first.items()}


def test_labels_across_days_match_the_oracle_on_all_rows():
    slabs = {day: _slab(60, day, day) for day in (5, 7, 8)}  # day 6 is empty
    got: dict[tuple, float] = {}
    tails = []
    for day in (8, 5, 7):  # any order
        labeled, labels, day_tails = label_day_slab(
            sort_and_dedup_slab(slabs[day], duplicates=EXACT)[0], day
        )
        got.update(zip(_keys(labeled), labels.tolist(), strict=True))
        tails.append(day_tails)
    labeled, labels, unlabeled = resolve_slab_tails(tails)
    boundary = dict(zip(_keys(labeled), labels.tolist(), strict=True))
    assert not boundary.keys() & got.keys()
    got.update(boundary)

    rows = oracle.frame_of(Slab.concat(list(slabs.values())))
    want = oracle.expected(rows)
    assert got == oracle.keyed_labels(want.kept)
    assert unlabeled == int(np.isnan(want.kept["label"]).sum()) == 6  # one per approach
    assert any(label > 86_400 for label in boundary.values())  # across the empty day 6


@pytest.mark.parametrize("rule", DUPLICATE_RULES)
def test_duplicate_rules_and_same_second_count_match_the_oracle(rule):
    slab = _slab(400, seed=4)
    kept, duplicates, _ = sort_and_dedup_slab(slab, duplicates=rule)
    labeled, labels, _ = label_day_slab(kept, utc_day=0)
    want = oracle.expected(oracle.frame_of(slab), duplicates=rule)
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
