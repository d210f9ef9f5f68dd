"""``generate --kind counts``: the same vehicles as the events output, counted per local hour,
approach and vehicle type, with explicit zeros and real DST hours."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from deploy.datasets.synthetic import cities, generator
from tests.deploy.synthetic import helpers
from tests.deploy.synthetic.test_cli import run as run_cli
from transforms import features

SPRING, AUTUMN = "2026-03-29", "2026-10-25"  # London's 2026 DST days
N_INTERSECTIONS = 3
COMBOS = N_INTERSECTIONS * len(features.DIRECTIONS) * len(features.VEHICLE_TYPES)


def _generate(out, *, kind, start, days, file_format="csv", seed=5):
    return generator.generate(
        cities.get_city("london"),
        out,
        days=days,
        start_date=start,
        seed=seed,
        intersections=N_INTERSECTIONS,
        file_format=file_format,
        kind=kind,
    )


def _hour_of(timestamp: str) -> str:
    """The hour_start of an events timestamp: its local hour, same offset."""
    return f"{timestamp[:13]}:00:00{timestamp[-6:]}"


@pytest.mark.parametrize(("start", "days"), [("2026-03-28", 3), ("2026-10-24", 3)])
def test_counts_are_the_events_of_the_same_seed(tmp_path, start, days):
    events = _generate(tmp_path / "events", kind="events", start=start, days=days)
    counts = _generate(tmp_path / "counts", kind="counts", start=start, days=days)
    assert sorted(counts.rows_per_file) == sorted(events.rows_per_file)
    assert counts.vehicles == events.total_rows
    per_day_type_events, per_day_type_counts = Counter(), Counter()
    per_cell_events, per_cell_counts = Counter(), Counter()
    for name in events.rows_per_file:
        day = name[:10]
        for row in helpers.read_rows(events.path / name):
            key = (row[features.RAW_INTERSECTION], row[features.RAW_DIRECTION])
            vehicle_type = row[features.RAW_VEHICLE_TYPE]
            per_day_type_events[day, vehicle_type] += 1
            per_cell_events[(_hour_of(row[features.RAW_TIMESTAMP]), *key, vehicle_type)] += 1
        rows = helpers.read_counts(counts.path / name)
        assert len(rows) == counts.rows_per_file[name]
        for row in rows:
            n = row[features.RAW_COUNT]
            per_day_type_counts[day, row[features.RAW_VEHICLE_TYPE]] += n
            cell = (
                row[features.RAW_HOUR_START],
                row[features.RAW_INTERSECTION],
                row[features.RAW_DIRECTION],
                row[features.RAW_VEHICLE_TYPE],
            )
            assert cell not in per_cell_counts, cell  # each cell once
            per_cell_counts[cell] = n
    assert per_day_type_counts == per_day_type_events
    assert sum(per_day_type_counts.values()) > 500
    # Cell by cell too; the counts add explicit zeros for cells without a vehicle.
    assert +per_cell_counts == per_cell_events
    assert 0 in per_cell_counts.values()
    truth = json.loads(counts.ground_truth_path.read_text())
    assert truth["data_kind"] == "counts" and truth["total_vehicles"] == counts.vehicles
    assert truth["files"] == counts.rows_per_file


def test_every_real_local_hour_has_a_row_per_approach_and_type(tmp_path):
    summary = _generate(tmp_path / "c", kind="counts", start="2026-03-28", days=2)
    zone = ZoneInfo("Europe/London")
    for name in summary.rows_per_file:
        rows = helpers.read_counts(summary.path / name)
        hours = Counter(row[features.RAW_HOUR_START] for row in rows)
        assert set(hours.values()) == {COMBOS}
        for hour in hours:  # the written offset is the zone's at that instant
            stamp = datetime.fromisoformat(hour)
            assert stamp.astimezone(zone).isoformat() == hour
            assert hour.startswith(name[:10])
        instants = [datetime.fromisoformat(row[features.RAW_HOUR_START]) for row in rows]
        assert instants == sorted(instants)


def test_dst_days_have_23_and_25_hours(tmp_path):
    spring = _generate(tmp_path / "spring", kind="counts", start=SPRING, days=1)
    autumn = _generate(tmp_path / "autumn", kind="counts", start=AUTUMN, days=1)
    spring_hours = Counter(
        r["hour_start"] for r in helpers.read_counts(spring.path / "2026-03-29.csv")
    )
    autumn_hours = Counter(
        r["hour_start"] for r in helpers.read_counts(autumn.path / "2026-10-25.csv")
    )
    assert len(spring_hours) == 23 and len(autumn_hours) == 25
    assert not [h for h in spring_hours if h[11:13] == "01"]  # 01:00-02:00 does not exist
    assert "2026-03-29T00:00:00+00:00" in spring_hours
    assert "2026-03-29T02:00:00+01:00" in spring_hours
    assert sorted(h for h in autumn_hours if h[11:13] == "01") == [
        "2026-10-25T01:00:00+00:00",
        "2026-10-25T01:00:00+01:00",
    ]
    assert spring.total_rows == 23 * COMBOS and autumn.total_rows == 25 * COMBOS
    # The first 01:00 (BST, +01:00) comes before the second (GMT, +00:00) in the file.
    order = [h for h in dict.fromkeys(autumn_hours) if h[11:13] == "01"]
    assert order == ["2026-10-25T01:00:00+01:00", "2026-10-25T01:00:00+00:00"]


def test_formats_hold_the_same_counts_and_seed_fixes_bytes(tmp_path):
    rows = {}
    for file_format in generator.FILE_FORMATS:
        out = _generate(
            tmp_path / file_format, kind="counts", start=AUTUMN, days=2, file_format=file_format
        )
        again = _generate(
            tmp_path / f"{file_format}-again",
            kind="counts",
            start=AUTUMN,
            days=2,
            file_format=file_format,
        )
        assert {p.name.split(".", 1)[1] for p in helpers.data_files(out.path)} == {file_format}
        rows[file_format] = [
            r for p in helpers.data_files(out.path) for r in helpers.read_counts(p)
        ]
        for p in helpers.data_files(out.path):
            assert p.read_bytes() == (again.path / p.name).read_bytes()
    assert len(rows["csv"]) == (25 + 24) * COMBOS
    assert rows["csv"] == rows["csv.gz"] == rows["parquet"]


def test_cli_kind_counts(tmp_path, capsys):
    out = tmp_path / "counts"
    argv = ["--city", "london", "--out", str(out), "--days", "1", "--intersections", "2"]
    assert run_cli([*argv, "--kind", "counts", "--start", SPRING]) == 0
    assert "hourly count rows" in capsys.readouterr().out
    assert len(helpers.read_counts(out / "2026-03-29.csv")) == 23 * 2 * 16
    assert run_cli([*argv, "--kind", "counts", "--overwrite", "--start", SPRING]) == 0


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(generator.GenerationError, match="kind 'hourly' not in events, counts"):
        _generate(tmp_path / "x", kind="hourly", start=SPRING, days=1)
    assert not (tmp_path / "x").exists()
