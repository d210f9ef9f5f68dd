"""Slab labeling (many approaches at once) agrees with the per-approach functions."""

from __future__ import annotations

import numpy as np

from components.traffic_example_gen.chunks import MICROS_PER_DAY, NO_LANE, Chunk, Slab
from components.traffic_example_gen.labels import (
    DayTails,
    approach_shards,
    headways_seconds,
    label_day_slab,
    resolve_slab_tails,
    sort_and_dedup_slab,
    split_by_key,
)
from tests.components.traffic_example_gen.reference_labels import (
    DayTail,
    resolve_tails,
    sort_and_dedup,
)

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


def _rows(slab: Slab) -> list[tuple]:
    c = slab.chunk
    return list(
        zip(
            slab.intersections[slab.intersection],
            slab.direction.tolist(),
            c.ts_us.tolist(),
            c.vehicle_type.tolist(),
            c.file_index.tolist(),
            c.row.tolist(),
            strict=True,
        )
    )


def test_day_slab_matches_per_approach_dedup_and_headways():
    slab = _slab(400, seed=3)
    kept, duplicates, originals = sort_and_dedup_slab(slab)
    labeled, labels, tails = label_day_slab(kept, utc_day=0)
    expected_kept, expected_dups, expected_labeled, expected_labels, expected_tails = (
        [],
        [],
        [],
        [],
        [],
    )
    for approach, index in split_by_key(slab.approach()):
        part = slab.take(index)
        k, d, _ = sort_and_dedup(part.chunk)
        key = (part.intersections[part.intersection[0]], int(part.direction[0]))
        expected_kept += [(*key, *r) for r in zip(k.ts_us.tolist(), k.row.tolist(), strict=True)]
        expected_dups += [
            (*key, *r) for r in zip(d.file_index.tolist(), d.row.tolist(), strict=True)
        ]
        expected_labels += headways_seconds(k.ts_us).tolist()
        expected_labeled += [(*key, r) for r in k.row[:-1].tolist()]
        expected_tails.append((*key, int(k.ts_us[0]), int(k.row[-1])))
        del approach
    assert [(i, d, t, r) for i, d, t, _, _, r in _rows(kept)] == expected_kept
    assert sorted((i, d, f, r) for i, d, _, _, f, r in _rows(duplicates)) == sorted(expected_dups)
    assert len(originals) == len(duplicates)
    assert [(i, d, r) for i, d, _, _, _, r in _rows(labeled)] == expected_labeled
    assert labels.tolist() == expected_labels
    got_tails = [
        (i, d, int(first), r)
        for (i, d, _, _, _, r), first in zip(_rows(tails.rows), tails.first_ts_us, strict=True)
    ]
    assert got_tails == expected_tails


def test_slab_tails_resolve_like_per_approach_tails():
    days = {
        day: label_day_slab(sort_and_dedup_slab(_slab(60, day, day))[0], day) for day in (5, 7, 8)
    }
    parts: list[DayTails] = [days[d][2] for d in (8, 5, 7)]  # any order
    labeled, labels, unlabeled = resolve_slab_tails(parts)
    assert unlabeled == 6  # one per approach (3 intersections x 2 directions)
    got = {
        (i, d, t): label
        for (i, d, t, *_), label in zip(_rows(labeled), labels.tolist(), strict=True)
    }
    expected = {}
    all_tails = Slab.concat([p.rows for p in parts])
    first = np.concatenate([p.first_ts_us for p in parts])
    utc_day = np.concatenate([p.utc_day for p in parts])
    for _, index in split_by_key(all_tails.approach()):
        part = all_tails.take(index)
        tails = [
            DayTail(int(utc_day[j]), int(first[j]), all_tails.chunk.take(np.array([j])))
            for j in index
        ]
        rows, values, n = resolve_tails(tails)
        assert n == 1
        key = (part.intersections[part.intersection[0]], int(part.direction[0]))
        for ts, value in zip(rows.ts_us.tolist(), values.tolist(), strict=True):
            expected[(*key, ts)] = value
    assert got == expected


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
