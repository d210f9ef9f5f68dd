"""The DriftGate executor on real artifacts: gzipped tf.Example files, TFDV statistics
(of the same rows, in memory, instead of a Beam StatisticsGen run).

Two runs' worth of Examples (one split) are written as ExampleGen writes them; the
statistics are TFDV's. The executor's drift statistics hold the vehicle counts per
approach x hour (weighted by ``vehicle_count`` for counts data), and its verdict follows
the baseline recorded on a blessing: none, gone, the same data, or a halved approach.
"""

from __future__ import annotations

import datetime
import os

import pandas as pd
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx.types import artifact_utils, standard_artifacts

from components.drift_gate import checks, derived, executor, file_cells, recent
from components.traffic_example_gen import properties
from transforms import features

SPLIT = "train"
APPROACHES = [("A", "N"), ("A", "S"), ("B", "E"), ("B", "W")]
FIRST_DAY = datetime.date(2026, 3, 16)
TIMEZONE = "UTC"  # the rows are made in UTC: hour = the local hour


def _rows(halved=None, count: int = 1, days: range = range(1), halved_from: int = 0):
    """Vehicles over 4 approaches x 24 hours (more in busy hours) on each of ``days``
    (offsets from FIRST_DAY); ``halved`` keeps half of one approach's from day
    ``halved_from`` on. Rows: (day, intersection, direction, hour, vehicle_count)."""
    rows = []
    for day in days:
        for inter, direction in APPROACHES:
            for hour in range(24):
                n = 10 + (30 if 7 <= hour <= 18 else 0)
                if (inter, direction) == halved and day >= halved_from:
                    n //= 2
                rows += [(day, inter, direction, hour, count)] * n
    return rows


def _timestamp(day: int, hour: int) -> int:
    start = datetime.datetime.combine(FIRST_DAY, datetime.time(hour), datetime.timezone.utc)
    return int((start + datetime.timedelta(days=day)).timestamp())


def _artifacts(root, rows, kind, last_day=None):
    """An Examples artifact (one split, one gzipped file per day, as ExampleGen writes
    them) and its TFDV statistics."""
    examples, stats = standard_artifacts.Examples(), standard_artifacts.ExampleStatistics()
    examples.uri, stats.uri = str(root / "examples"), str(root / "statistics")
    for artifact in (examples, stats):
        artifact.split_names = artifact_utils.encode_split_names([SPLIT])
    split_dir = os.path.join(examples.uri, f"Split-{SPLIT}")
    os.makedirs(split_dir)
    for day in sorted({row[0] for row in rows}):
        name = f"data_tfrecord-{FIRST_DAY + datetime.timedelta(days=day)}-00000.gz"
        _write_examples(os.path.join(split_dir, name), [r for r in rows if r[0] == day], kind)
    if last_day is not None:
        examples.set_string_custom_property(
            properties.LAST_DAY, (FIRST_DAY + datetime.timedelta(days=last_day)).isoformat()
        )
    columns = ["day", features.INTERSECTION, features.DIRECTION, features.HOUR]
    frame = pd.DataFrame(rows, columns=[*columns, features.VEHICLE_COUNT]).drop(columns="day")
    frame = tfdv.generate_statistics_from_dataframe(frame)
    os.makedirs(os.path.join(stats.uri, f"Split-{SPLIT}"))
    with open(os.path.join(stats.uri, f"Split-{SPLIT}", executor.WINDOW_FILE), "wb") as f:
        f.write(frame.SerializeToString())
    return examples, stats


def _write_examples(path: str, rows, kind) -> None:
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(path, options) as out:
        for day, inter, direction, hour, count in rows:
            feature = {
                features.TIMESTAMP_UTC: tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[_timestamp(day, hour)])
                ),
                features.VEHICLE_TYPE: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[b"car"])
                ),
                features.INTERSECTION: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[inter.encode()])
                ),
                features.DIRECTION: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[direction.encode()])
                ),
                features.HOUR: tf.train.Feature(int64_list=tf.train.Int64List(value=[hour])),
            }
            if kind == features.DATA_KIND_COUNTS:
                feature[features.VEHICLE_COUNT] = tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[count])
                )
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            out.write(example.SerializeToString(deterministic=True))  # same rows, same bytes


def _run(
    root,
    rows,
    baseline_uri=None,
    mode="block",
    kind=features.DATA_KIND_EVENTS,
    recent_days=0,
    last_day=None,
):
    examples, stats = _artifacts(root, rows, kind, last_day)
    drift, anomalies = standard_artifacts.ExampleStatistics(), standard_artifacts.ExampleAnomalies()
    drift.uri, anomalies.uri = str(root / "drift"), str(root / "anomalies")
    baseline = []
    if baseline_uri is not None:
        blessing = standard_artifacts.ModelBlessing()
        blessing.set_string_custom_property(checks.BLESSING_STATISTICS_URI, baseline_uri)
        baseline = [blessing]
    executor.Executor().Do(
        {"statistics": [stats], "examples": [examples], "baseline": baseline},
        {"drift_statistics": [drift], "anomalies": [anomalies]},
        {
            "mode": mode,
            "thresholds": '{"approach": 0.02, "direction": 0.02}',
            "data_kind": kind,
            "timezone": TIMEZONE,
            "recent_days": recent_days,
        },
    )
    return drift


def _result(drift):
    return drift.get_string_custom_property(checks.RESULT)


def test_the_derived_statistics_count_vehicles_per_approach_and_hour(tmp_path):
    drift = _run(tmp_path / "events", _rows())
    derived_stats = tfdv.load_stats_binary(
        os.path.join(drift.uri, f"Split-{SPLIT}", executor.DERIVED_FILE)
    )
    counts = {
        b.label: b.sample_count
        for f in derived_stats.datasets[0].features
        if f.path.step == [checks.APPROACH_HOUR]
        for b in f.string_stats.weighted_string_stats.rank_histogram.buckets
    }
    assert len(counts) == len(APPROACHES) * 24
    assert counts[derived.approach_hour_key("A", "N", 8)] == 40
    assert counts[derived.approach_hour_key("B", "W", 2)] == 10
    assert _result(drift) == checks.NO_BASELINE


def test_counts_data_weighs_each_row_by_its_vehicle_count(tmp_path):
    drift = _run(tmp_path / "counts", _rows(count=7), kind=features.DATA_KIND_COUNTS)
    derived_stats = tfdv.load_stats_binary(
        os.path.join(drift.uri, f"Split-{SPLIT}", executor.DERIVED_FILE)
    )
    [approach] = [f for f in derived_stats.datasets[0].features if f.path.step == ["approach"]]
    weighted = approach.string_stats.weighted_string_stats.rank_histogram.buckets
    assert {b.label: b.sample_count for b in weighted}["A/N"] == 7 * (12 * 10 + 12 * 40)


@pytest.mark.parametrize(("mode", "blocked"), [("block", 1), ("warn", 0)])
def test_a_halved_approach_drifts_and_blocks_only_in_block_mode(tmp_path, mode, blocked):
    base = _run(tmp_path / "base", _rows())
    drift = _run(tmp_path / "new", _rows(halved=("A", "N")), base.uri, mode)
    assert _result(drift) == checks.DRIFT
    assert drift.get_string_custom_property(checks.DRIFTED_FEATURES) == "direction,approach"
    assert drift.get_int_custom_property(checks.BLOCKED) == blocked
    [approach] = [
        m
        for m in checks.from_json(drift.get_string_custom_property(checks.MEASUREMENTS))
        if m.feature == checks.APPROACH
    ]
    # A/N: 1/4 of the vehicles before, 0.5 / 3.5 = 1/7 after.
    assert approach.value == pytest.approx(1 / 4 - 1 / 7)


def test_the_same_data_is_ok_and_a_gone_baseline_is_said(tmp_path):
    base = _run(tmp_path / "base", _rows())
    assert _result(_run(tmp_path / "same", _rows(), base.uri)) == checks.OK
    gone = _run(tmp_path / "gone", _rows(), str(tmp_path / "deleted"))
    assert _result(gone) == checks.BASELINE_MISSING
    assert gone.get_int_custom_property(checks.BLOCKED) == 0


def _recent(drift) -> list[checks.Measurement]:
    measured = checks.from_json(drift.get_string_custom_property(checks.MEASUREMENTS))
    return [m for m in measured if m.split == recent.RECENT]


def test_the_recent_days_catch_a_break_the_whole_window_dilutes(tmp_path):
    """14-day windows a night apart: the newest 2 days halved move the whole window's
    A/N share by 1/4 - 13/55 (under 0.02), the recent days' by 1/4 - 1/7."""
    base = _run(tmp_path / "base", _rows(days=range(14)), recent_days=2, last_day=13)
    assert base.get_string_custom_property(checks.RECENT_PARTS) == ""  # no baseline
    cells = recent.read_day_cells(os.path.join(base.uri, recent.DAY_CELLS_FILE))
    assert sorted(cells[derived.DAY].unique()) == [
        (FIRST_DAY + datetime.timedelta(days=d)).isoformat() for d in range(14)
    ]
    assert cells[derived.WEIGHT].sum() == len(_rows(days=range(14)))

    rows = _rows(halved=("A", "N"), days=range(1, 15), halved_from=13)
    drift = _run(tmp_path / "new", rows, base.uri, recent_days=2, last_day=14)
    assert _result(drift) == checks.DRIFT
    window = {
        m.feature: m
        for m in checks.from_json(drift.get_string_custom_property(checks.MEASUREMENTS))
        if m.split == SPLIT
    }
    assert window[checks.APPROACH].value == pytest.approx(1 / 4 - 13 / 55)
    assert not window[checks.APPROACH].drifted
    [approach] = [m for m in _recent(drift) if m.feature == checks.APPROACH]
    assert approach.value == pytest.approx(1 / 4 - 1 / 7) and approach.drifted
    parts = checks.RecentParts.from_json(drift.get_string_custom_property(checks.RECENT_PARTS))
    assert parts == checks.RecentParts(
        # the baseline's 13 days before the recent ones, as whole weeks: the newest 7
        "2026-03-29",
        "2026-03-30",
        2,
        "2026-03-22",
        "2026-03-28",
        7,
        compared=True,
    )


def test_an_unbroken_night_is_ok_on_the_recent_days_too(tmp_path):
    base = _run(tmp_path / "base", _rows(days=range(14)), recent_days=2, last_day=13)
    drift = _run(tmp_path / "new", _rows(days=range(1, 15)), base.uri, recent_days=2, last_day=14)
    assert _result(drift) == checks.OK
    assert {m.feature for m in _recent(drift)} == {features.DIRECTION, checks.APPROACH}
    assert all(m.value == pytest.approx(0.0, abs=1e-12) for m in _recent(drift))


def test_too_few_reference_days_are_not_compared_and_said(tmp_path):
    """Recent 7 days ending day 7 need 7 baseline days before day 1: there is 1."""
    base = _run(tmp_path / "base", _rows(days=range(7)), recent_days=7, last_day=6)
    rows = _rows(halved=("A", "N"), days=range(1, 8), halved_from=7)
    drift = _run(tmp_path / "new", rows, base.uri, recent_days=7, last_day=7)
    parts = checks.RecentParts.from_json(drift.get_string_custom_property(checks.RECENT_PARTS))
    assert (parts.reference_days, parts.compared) == (1, False)
    assert "not compared" in parts.describe()
    assert _recent(drift) == []


def _day_cells(drift) -> pd.DataFrame:
    return recent.read_day_cells(os.path.join(drift.uri, recent.DAY_CELLS_FILE))


def _files(drift) -> tuple[int, int]:
    return (
        drift.get_int_custom_property(executor.COUNTED_FILES),
        drift.get_int_custom_property(executor.REUSED_FILES),
    )


def test_a_night_counts_only_the_days_its_baseline_did_not(tmp_path):
    """A window a night later reads only its new day's file; a rewritten day (same file
    name, other rows) is read again; the cells and verdict equal a count of every file."""
    base = _run(tmp_path / "base", _rows(days=range(14)), recent_days=2, last_day=13)
    assert _files(base) == (14, 0)
    rows = _rows(days=range(1, 15))
    night = _run(tmp_path / "night", rows, base.uri, recent_days=2, last_day=14)
    assert _files(night) == (1, 13)
    fresh = _run(tmp_path / "fresh", rows, recent_days=2, last_day=14)  # no baseline
    assert _files(fresh) == (14, 0)
    pd.testing.assert_frame_equal(_day_cells(night), _day_cells(fresh))

    # Day 5 rewritten: approach A/N halved on that day only.
    rewritten = [r for r in rows if r[0] != 5] + _rows(halved=("A", "N"), days=range(5, 6))
    redone = _run(tmp_path / "redone", rewritten, base.uri, recent_days=2, last_day=14)
    assert _files(redone) == (2, 12)
    fresh = _run(tmp_path / "fresh_redone", rewritten, recent_days=2, last_day=14)
    pd.testing.assert_frame_equal(_day_cells(redone), _day_cells(fresh))
    day5 = _day_cells(redone)
    day5 = day5[(day5[derived.DAY] == "2026-03-21") & (day5[features.INTERSECTION] == "A")]
    assert day5[day5[features.DIRECTION] == "N"][derived.WEIGHT].sum() == (12 * 10 + 12 * 40) // 2


def test_a_file_of_the_same_bytes_in_two_splits_is_kept_once(tmp_path):
    """The kept table holds each key once, so a later run reuses its cells once per file."""
    cells = derived.count_day_cells([], features.DATA_KIND_EVENTS, TIMEZONE)
    one = pd.DataFrame(
        {
            derived.DAY: ["2026-03-16"],
            features.INTERSECTION: ["A"],
            features.DIRECTION: ["N"],
            features.HOUR: [8],
            features.VEHICLE_TYPE: ["car"],
            derived.WEIGHT: [40],
        }
    )
    train = pd.concat([cells, one]).assign(**{file_cells.FILE_KEY: "k"})
    file_cells.write(str(tmp_path), [train, train.copy()])
    kept = file_cells.read(str(tmp_path))
    assert len(kept) == 1 and kept[derived.WEIGHT].sum() == 40
