"""Generator output: daily files, ground truth vs rows, DST, determinism, formats, cities."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from deploy.datasets.output import MARKER_FILE
from deploy.datasets.synthetic import cities, generator
from tests.deploy.synthetic import helpers
from transforms import features

START = date(2026, 3, 16)
STATS_SEED = 11
TIMESTAMP_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


@pytest.fixture(scope="module")
def london_run(tmp_path_factory):
    """The default-size London run (28 days from START) with a fixed seed, and its rows."""
    out = tmp_path_factory.mktemp("london") / "data"
    summary = generator.generate(
        cities.get_city("london"), out, days=28, start_date=START, seed=STATS_SEED
    )
    return summary, helpers.all_rows(out)


def test_writes_one_file_per_local_day(london_run):
    summary, rows = london_run
    names = sorted(p.name for p in helpers.data_files(summary.path))
    assert len(names) == 28
    assert names[0] == "2026-03-16.csv" and names[-1] == "2026-04-12.csv"
    assert sorted(summary.rows_per_file) == names
    assert summary.total_rows == len(rows) == sum(summary.rows_per_file.values())
    assert 300_000 < summary.total_rows < 500_000  # default London size: ~400k rows
    truth = json.loads(summary.ground_truth_path.read_text())
    assert truth["files"] == summary.rows_per_file and truth["total_rows"] == len(rows)


def test_rows_are_well_formed_and_sorted(london_run):
    summary, _ = london_run
    zone = ZoneInfo("Europe/London")
    for path in helpers.data_files(summary.path)[::9]:
        rows = helpers.read_rows(path)
        assert list(rows[0]) == [
            features.RAW_TIMESTAMP,
            features.RAW_INTERSECTION,
            features.RAW_DIRECTION,
            features.RAW_VEHICLE_TYPE,
            features.RAW_LANE,
            features.RAW_SPEED,
        ]
        instants = []
        for row in rows:
            stamp = row[features.RAW_TIMESTAMP]
            assert TIMESTAMP_RE.match(stamp), stamp
            parsed = datetime.fromisoformat(stamp)
            # The written offset is the zone's real offset at that instant.
            assert parsed.astimezone(zone).isoformat(timespec="milliseconds") == stamp
            assert parsed.date().isoformat() == path.name[:10]
            instants.append(parsed.timestamp())
            assert row[features.RAW_DIRECTION] in features.DIRECTIONS
            assert row[features.RAW_VEHICLE_TYPE] in features.VEHICLE_TYPES
            assert re.fullmatch(r"LDN-\d{4}", row[features.RAW_INTERSECTION])
            assert int(row[features.RAW_LANE]) >= 1
            assert re.fullmatch(r"\d+\.\d", row[features.RAW_SPEED])
        assert instants == sorted(instants)


def _expected_and_variance(truth_path, occurrences):
    """Expected counts and their variance per (type, day, hour), from ground_truth.json only.

    Counts are Poisson given the lognormal (mean 1) noise; the noise adds variance:
    a city-wide factor per date and one per intersection and hour cell.
    """
    matrix = generator.load_ground_truth(truth_path)
    truth = generator.read_ground_truth(truth_path)
    day_var = np.exp(truth["noise"]["day_sigma"] ** 2)
    hour_var = np.exp(truth["noise"]["hour_sigma"] ** 2) - 1
    base = np.array([site["base_volume"] for site in truth["intersections"]])
    concentration = ((base / base.sum()) ** 2).sum()
    shape = (len(features.VEHICLE_TYPES), features.DAYS_PER_WEEK, features.HOURS_PER_DAY)
    expected, variance = np.zeros(shape), np.zeros(shape)
    for (local_date, hour), m in occurrences.items():
        day = local_date.weekday()
        rate = matrix[day * features.HOURS_PER_DAY + hour]
        expected[:, day, hour] += m * rate
        noise_var = day_var * (m**2 + m * hour_var * concentration) * rate**2 - (m * rate) ** 2
        variance[:, day, hour] += m * rate + noise_var
    return expected, variance


def _total_expected_and_variance(truth_path, occurrences):
    """Expected row count of the run and its variance (day noise is shared by a whole date)."""
    city_rate = generator.load_ground_truth(truth_path).sum(axis=1)
    truth = generator.read_ground_truth(truth_path)
    day_var = np.exp(truth["noise"]["day_sigma"] ** 2)
    hour_var = np.exp(truth["noise"]["hour_sigma"] ** 2) - 1
    base = np.array([site["base_volume"] for site in truth["intersections"]])
    concentration = ((base / base.sum()) ** 2).sum()
    per_date: dict = {}
    for (local_date, hour), m in occurrences.items():
        rate = city_rate[local_date.weekday() * features.HOURS_PER_DAY + hour]
        mean, squares = per_date.get(local_date, (0.0, 0.0))
        per_date[local_date] = (mean + m * rate, squares + m * rate**2)
    total = sum(mean for mean, _ in per_date.values())
    noise = sum(
        day_var * (mean**2 + hour_var * concentration * squares) - mean**2
        for mean, squares in per_date.values()
    )
    return total, total + noise


def _observed(rows):
    counts = helpers.cell_counts(rows)
    observed = np.zeros(
        (len(features.VEHICLE_TYPES), features.DAYS_PER_WEEK, features.HOURS_PER_DAY)
    )
    for (vehicle_type, day, hour), n in counts.items():
        observed[features.VEHICLE_TYPES.index(vehicle_type), day, hour] = n
    return observed


def _chi2_per_cell(observed, expected, variance):
    z = (observed - expected) / np.sqrt(variance)
    return float((z**2).mean()), float(np.abs(z).max())


def test_rows_match_ground_truth_within_sampling_noise(london_run):
    summary, rows = london_run
    occurrences = helpers.local_hour_occurrences("Europe/London", START, 28)
    expected, variance = _expected_and_variance(summary.ground_truth_path, occurrences)
    observed = _observed(rows)
    chi2, worst = _chi2_per_cell(observed, expected, variance)
    # 672 cells of roughly standard normal z-scores: mean z^2 near 1, no extreme cell.
    assert 0.6 < chi2 < 1.8, chi2
    assert worst < 6.0, worst
    total, total_variance = _total_expected_and_variance(summary.ground_truth_path, occurrences)
    assert expected.sum() == pytest.approx(total)
    assert abs(len(rows) - total) < 5 * np.sqrt(total_variance)


def test_ground_truth_check_detects_a_one_hour_shift(london_run):
    """The statistic above has power: truth shifted by one hour is rejected by far."""
    summary, rows = london_run
    occurrences = helpers.local_hour_occurrences("Europe/London", START, 28)
    expected, variance = _expected_and_variance(summary.ground_truth_path, occurrences)
    observed = _observed(rows)
    for shift in (1, -1):
        chi2, _ = _chi2_per_cell(
            observed, np.roll(expected, shift, axis=2), np.roll(variance, shift, axis=2)
        )
        assert chi2 > 10, (shift, chi2)


def test_load_ground_truth_orders_cells_and_types(london_run):
    summary, _ = london_run
    matrix = generator.load_ground_truth(summary.path)  # the directory works too
    truth = json.loads(summary.ground_truth_path.read_text())
    assert matrix.shape == (features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES))
    for row, (day, hour) in enumerate(features.all_day_hours()):
        for col, vehicle_type in enumerate(features.VEHICLE_TYPES):
            assert matrix[row, col] == truth["intensity"][vehicle_type][day][hour]
    base_total = sum(site["base_volume"] for site in truth["intersections"])
    # Week-average city volume equals the summed base volumes of the intersections.
    assert matrix.sum(axis=1).mean() == pytest.approx(base_total, rel=1e-4)
    assert truth["city"] == "london" and truth["seed"] == STATS_SEED
    assert truth["start_date"] == START.isoformat() and truth["days"] == 28


def test_load_ground_truth_names_file_and_field(tmp_path):
    bad = tmp_path / "ground_truth.json"
    bad.write_text(json.dumps({"intensity": {"car": [[1.0] * 24] * 6}}))
    with pytest.raises(ValueError, match=r"ground_truth\.json.*intensity\.car"):
        generator.load_ground_truth(bad)


def _hours_with_offsets(rows):
    return Counter(
        (row[features.RAW_TIMESTAMP][11:13], row[features.RAW_TIMESTAMP][-6:]) for row in rows
    )


@pytest.mark.parametrize(("city", "missing_hour"), [("london", "01"), ("frankfurt", "02")])
def test_spring_forward_hour_has_no_rows(tmp_path, city, missing_hour):
    profile = cities.get_city(city)
    summary = generator.generate(
        profile, tmp_path / "out", days=1, start_date="2026-03-29", intersections=4, scale=6.0
    )
    rows = helpers.read_rows(summary.path / "2026-03-29.csv")
    by_hour = _hours_with_offsets(rows)
    hours = {hour for hour, _ in by_hour}
    assert missing_hour not in hours
    assert hours == {f"{h:02d}" for h in range(24)} - {missing_hour}
    before, after = f"{int(missing_hour) - 1:02d}", f"{int(missing_hour) + 1:02d}"
    winter, summer = {"london": ("+00:00", "+01:00"), "frankfurt": ("+01:00", "+02:00")}[city]
    assert {off for hour, off in by_hour if hour == before} == {winter}
    assert {off for hour, off in by_hour if hour == after} == {summer}


def test_fall_back_hour_occurs_twice(tmp_path):
    summary = generator.generate(
        cities.get_city("london"),
        tmp_path / "out",
        days=1,
        start_date="2026-10-25",
        intersections=4,
        scale=6.0,
    )
    rows = helpers.read_rows(summary.path / "2026-10-25.csv")
    by_hour = _hours_with_offsets(rows)
    assert by_hour[("01", "+01:00")] > 0 and by_hour[("01", "+00:00")] > 0
    assert {off for hour, off in by_hour if hour == "00"} == {"+01:00"}
    assert {off for hour, off in by_hour if hour == "02"} == {"+00:00"}
    # Rows are sorted by instant: every +01:00 01:xx row precedes every +00:00 01:xx row.
    offsets = [
        row[features.RAW_TIMESTAMP][-6:]
        for row in rows
        if row[features.RAW_TIMESTAMP][11:13] == "01"
    ]
    assert offsets == sorted(offsets, reverse=True)
    # Two real hours of traffic at local 01:xx.
    truth = generator.load_ground_truth(summary.path)
    sunday_1am = truth[6 * 24 + 1].sum()
    n_1am = by_hour[("01", "+01:00")] + by_hour[("01", "+00:00")]
    assert abs(n_1am - 2 * sunday_1am) < 6 * np.sqrt(2 * sunday_1am) + 0.3 * 2 * sunday_1am


@pytest.mark.parametrize("file_format", generator.FILE_FORMATS)
def test_same_seed_gives_identical_bytes(tmp_path, file_format):
    def run(name, seed):
        return generator.generate(
            cities.get_city("frankfurt"),
            tmp_path / name,
            days=2,
            start_date=START,
            seed=seed,
            intersections=3,
            file_format=file_format,
        ).path

    first, second, other = run("a", 5), run("b", 5), run("c", 6)
    names = [p.name for p in helpers.data_files(first)]
    assert names == [p.name for p in helpers.data_files(second)]
    for name in [*names, generator.GROUND_TRUTH_FILE]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert (first / names[0]).read_bytes() != (other / names[0]).read_bytes()


def test_default_seed_is_the_citys(tmp_path):
    summary = generator.generate(cities.get_city("london"), tmp_path / "out", days=1)
    assert summary.seed == cities.get_city("london").default_seed


def test_formats_hold_the_same_rows(tmp_path):
    rows = {}
    for file_format in generator.FILE_FORMATS:
        out = generator.generate(
            cities.get_city("london"),
            tmp_path / file_format,
            days=2,
            start_date=START,
            seed=3,
            intersections=3,
            file_format=file_format,
        ).path
        assert {p.name.split(".", 1)[1] for p in helpers.data_files(out)} == {file_format}
        rows[file_format] = helpers.all_rows(out)
    assert len(rows["csv"]) > 1000
    assert rows["csv"] == rows["csv.gz"] == rows["parquet"]


def test_london_and_frankfurt_differ(tmp_path):
    def weekday_stats(city):
        out = generator.generate(
            cities.get_city(city), tmp_path / city, days=7, start_date=START
        ).path
        rows = helpers.all_rows(out)
        types = Counter(row[features.RAW_VEHICLE_TYPE] for row in rows)
        car_hours = Counter(
            helpers.local_cell(row[features.RAW_TIMESTAMP])[1]
            for row in rows
            if row[features.RAW_VEHICLE_TYPE] == "car"
            and helpers.local_cell(row[features.RAW_TIMESTAMP])[0] < 5
        )
        morning = max(range(5, 12), key=car_hours.__getitem__)
        evening = max(range(14, 21), key=car_hours.__getitem__)
        sites = {row[features.RAW_INTERSECTION] for row in rows}
        return len(rows), types["bicycle"] / len(rows), morning, evening, sites

    london, frankfurt = weekday_stats("london"), weekday_stats("frankfurt")
    assert frankfurt[1] > london[1] + 0.03  # higher bicycle share
    assert (london[2], frankfurt[2]) == (8, 7)  # morning peak an hour earlier
    assert frankfurt[3] < london[3]  # evening peak earlier too
    assert 0.35 < frankfurt[0] / london[0] < 0.65  # about half the volume
    assert len(frankfurt[4]) < len(london[4])
    assert all(s.startswith("FRA-") for s in frankfurt[4])
    assert all(s.startswith("LDN-") for s in london[4])


def test_generic_city_uses_its_time_zone(tmp_path):
    profile = cities.get_city("Sydney", timezone="Australia/Sydney")
    summary = generator.generate(
        profile, tmp_path / "out", days=1, start_date="2026-04-05", intersections=3, scale=5
    )
    rows = helpers.read_rows(summary.path / "2026-04-05.csv")
    # Sydney falls back at 03:00 (+11:00) to 02:00 (+10:00) on 2026-04-05.
    offsets = {
        row[features.RAW_TIMESTAMP][-6:]
        for row in rows
        if row[features.RAW_TIMESTAMP][11:13] == "02"
    }
    assert offsets == {"+11:00", "+10:00"}
    assert all(row[features.RAW_INTERSECTION].startswith("SYD-") for row in rows)
    assert json.loads(summary.ground_truth_path.read_text())["timezone"] == "Australia/Sydney"


def test_size_scales_with_intersections_and_scale(tmp_path):
    def total(**kwargs):
        return generator.generate(
            cities.get_city("london"),
            tmp_path / str(len(list(tmp_path.iterdir()))),
            days=2,
            **kwargs,
        ).total_rows

    small = total(intersections=4)
    assert total(intersections=8) == pytest.approx(2 * small, rel=0.15)
    assert total(intersections=4, scale=3.0) == pytest.approx(3 * small, rel=0.15)


def test_overwrite_replaces_existing_output(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "stale.csv").write_text("old\n")
    with pytest.raises(generator.GenerationError, match="already holds data"):
        generator.generate(cities.get_city("london"), out, days=1, intersections=2)
    with pytest.raises(generator.GenerationError, match=r"did not write \(stale.csv\)"):
        generator.generate(cities.get_city("london"), out, days=1, intersections=2, overwrite=True)
    assert [p.name for p in out.iterdir()] == ["stale.csv"]
    london = cities.get_city("london")
    generator.generate(london, out, days=1, overwrite=True, overwrite_foreign=True)
    written = [MARKER_FILE, "2026-03-16.csv", "ground_truth.json"]
    assert sorted(p.name for p in out.iterdir()) == written
    generator.generate(london, out, days=1, intersections=2, overwrite=True)  # its own files
    assert sorted(p.name for p in out.iterdir()) == written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temp dirs left
