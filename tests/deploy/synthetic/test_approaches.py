"""Per-approach truth: tidal flow, intersection kinds, ``approach_intensity`` in
ground_truth.json, and sampled events and counts that follow it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from deploy.datasets.synthetic import cities, generator, sampling
from tests.deploy.synthetic import helpers
from transforms import features

START = date(2026, 3, 16)  # a Monday
SEED = 11
CAR, TRUCK, BICYCLE = (features.VEHICLE_TYPES.index(v) for v in ("car", "truck", "bicycle"))
HOURS, WEEKDAYS = features.HOURS_PER_DAY, range(5)
TIDAL_KINDS = ("radial", "night_trucks")


def _weekday_hour(matrix: np.ndarray, hour: int) -> np.ndarray:
    """Mean over Monday-Friday of one local hour; ``matrix`` is (..., 168, ...) on axis 1."""
    return matrix[:, [day * HOURS + hour for day in WEEKDAYS]].mean(axis=1)


def _peaks(profile: cities.CityProfile) -> tuple[int, int]:
    """The hour cells of the city's weekday morning and evening car peaks."""
    weekday = profile.weekly_shapes()[CAR, 0]
    return int(weekday[:12].argmax()), 12 + int(weekday[12:].argmax())


@pytest.fixture(scope="module", params=["london", "frankfurt"])
def truth_run(request, tmp_path_factory):
    """A one-day run of a default-size city: profile, truth dict, approaches, matrix, dir."""
    profile = cities.get_city(request.param)
    out = tmp_path_factory.mktemp(request.param) / "data"
    generator.generate(profile, out, days=1, start_date=START, seed=SEED)
    approaches, matrix = generator.load_approach_intensity(out)
    return profile, generator.read_ground_truth(out), approaches, matrix, out


def _kinds(truth: dict, approaches: list[tuple[str, str]]) -> np.ndarray:
    kind = {site["id"]: site["kind"] for site in truth["intersections"]}
    return np.array([kind[site] for site, _ in approaches])


def _inbound(truth: dict, approaches: list[tuple[str, str]]) -> np.ndarray:
    weight = {site["id"]: site["inbound_weight"] for site in truth["intersections"]}
    return np.array([weight[site][direction] for site, direction in approaches])


# --- layout ---------------------------------------------------------------------------


def test_inbound_weight_is_the_cosine_to_the_centre():
    # Due north of the centre: travelling S is inbound, N outbound, E and W tangential.
    weights = sampling.inbound_weights(np.array([0.0, 90.0, 45.0]))
    order = [features.DIRECTIONS.index(d) for d in ("N", "E", "S", "W")]
    np.testing.assert_allclose(weights[0, order], [-1, 0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(weights[1, order], [0, -1, 0, 1], atol=1e-12)  # east: W inbound
    np.testing.assert_allclose(weights[2, order], np.sqrt(0.5) * np.array([-1, -1, 1, 1]))


@pytest.mark.parametrize(("city", "per_kind"), [("london", 2), ("frankfurt", 1)])
def test_a_few_distinct_intersections_per_city(city, per_kind):
    profile = cities.get_city(city)
    layout = sampling.draw_layout(profile, profile.intersections, 1.0, profile.default_seed)
    kinds = [cities.INTERSECTION_KINDS[k] for k in layout.kind]
    for kind in ("school", "shopping", "night_trucks"):
        assert kinds.count(kind) == per_kind, kind
    assert kinds.count("radial") == profile.intersections - 3 * per_kind
    median = np.median(layout.distance_km)
    is_kind = np.array(kinds)
    assert (layout.distance_km[is_kind == "shopping"] <= median).all()
    assert (layout.distance_km[is_kind == "night_trucks"] >= median).all()
    assert (layout.distance_km <= profile.radius_km).all()
    assert ((layout.bearing_deg >= 0) & (layout.bearing_deg < 360)).all()
    again = sampling.draw_layout(profile, profile.intersections, 1.0, profile.default_seed)
    np.testing.assert_array_equal(again.kind, layout.kind)
    np.testing.assert_array_equal(again.bearing_deg, layout.bearing_deg)
    other = sampling.draw_layout(profile, profile.intersections, 1.0, profile.default_seed + 1)
    assert not np.array_equal(other.bearing_deg, layout.bearing_deg)


def test_small_runs_are_all_radial():
    layout = sampling.draw_layout(cities.get_city("london"), 3, 1.0, 5)
    assert (layout.kind == cities.INTERSECTION_KINDS.index("radial")).all()


def test_approach_shapes_without_tide_are_the_city_shape():
    profile = cities.get_city("london")
    kinds = np.zeros(2, dtype=np.int64)  # radial
    shapes = cities.approach_shapes(profile, kinds, np.zeros((2, len(features.DIRECTIONS))))
    np.testing.assert_allclose(shapes[1, 3], profile.weekly_shapes())
    tidal = cities.approach_shapes(profile, kinds, np.ones((2, len(features.DIRECTIONS))))
    np.testing.assert_allclose(tidal.mean(axis=(-2, -1)), 1.0)
    np.testing.assert_allclose(tidal[0, 0, TRUCK], profile.weekly_shapes()[TRUCK])  # not tidal


# --- ground_truth.json ----------------------------------------------------------------


def test_approach_intensity_entries_follow_the_contract(truth_run):
    profile, truth, approaches, matrix, _ = truth_run
    ids = sorted(site["id"] for site in truth["intersections"])
    assert approaches == [(site, d) for site in ids for d in features.DIRECTIONS]
    assert matrix.shape == (len(ids) * len(features.DIRECTIONS), 168, len(features.VEHICLE_TYPES))
    assert truth["format_version"] == 2 and truth["tidal"] == profile.tidal
    entries = truth["approach_intensity"]
    assert [(e["intersection_id"], e["direction"]) for e in entries] == approaches
    for a in (0, len(entries) - 1):
        for row, (day, hour) in enumerate(features.all_day_hours()):
            for col, vehicle_type in enumerate(features.VEHICLE_TYPES):
                assert matrix[a, row, col] == entries[a]["intensity"][vehicle_type][day][hour]
    for site in truth["intersections"]:
        assert site["kind"] in cities.INTERSECTION_KINDS
        assert 0 <= site["distance_km"] <= profile.radius_km
        assert set(site["inbound_weight"]) == set(features.DIRECTIONS)


def test_city_intensity_is_the_sum_over_approaches(truth_run):
    *_, matrix, out = truth_run
    city = generator.load_ground_truth(out)
    # Each number is rounded to 6 decimals: the sum may differ by half a unit per term.
    np.testing.assert_allclose(matrix.sum(axis=0), city, rtol=0, atol=0.5e-6 * (len(matrix) + 1))
    assert city.sum() > 0


def _write_truth(directory: Path, truth: dict) -> Path:
    path = directory / generator.GROUND_TRUTH_FILE
    path.write_text(json.dumps(truth))
    return path


def test_approach_weekly_volume_is_base_times_factor_times_share(truth_run):
    profile, truth, approaches, matrix, _ = truth_run
    site = {s["id"]: s for s in truth["intersections"]}
    expected = np.array(
        [
            [
                site[i]["base_volume"] * site[i]["direction_factors"][d] * share
                for share in profile.vehicle_shares
            ]
            for i, d in approaches
        ]
    )
    np.testing.assert_allclose(matrix.mean(axis=1), expected, rtol=1e-5)


def _bad_entry(truth: dict, **change) -> dict:
    entries = [dict(e) for e in truth["approach_intensity"]]
    entries[1] = {**entries[1], **change}
    return {**truth, "approach_intensity": entries}


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda t: {k: v for k, v in t.items() if k != "approach_intensity"}, "approach_intensity"),
        (lambda t: {**t, "approach_intensity": {}}, "approach_intensity"),
        (lambda t: _bad_entry(t, direction="NE"), r"approach_intensity\[1\]"),
        (lambda t: _bad_entry(t, intensity=[1, 2]), r"approach_intensity\[1\]\.intensity"),
        (
            lambda t: _bad_entry(t, intensity={"car": [[1.0] * 24] * 6}),
            r"approach_intensity\[1\]\.intensity\.car",
        ),
        (
            lambda t: _bad_entry(t, intensity={"car": [[1.0] * 24] * 6 + [[1.0]]}),
            r"approach_intensity\[1\]\.intensity\.car",
        ),
    ],
    ids=["missing", "not-a-list", "direction", "not-a-dict", "short", "ragged"],
)
def test_load_approach_intensity_names_file_and_field(truth_run, mutate, field, tmp_path):
    path = _write_truth(tmp_path, mutate(truth_run[1]))
    with pytest.raises(ValueError, match=rf"ground_truth\.json: field '{field}") as err:
        generator.load_approach_intensity(path.parent)
    assert "\n" not in str(err.value)
    generator.load_ground_truth(path)  # the city-wide reader does not need the field


# --- tidal and distinct profiles in the truth ------------------------------------------


@pytest.mark.parametrize("vehicle", [CAR, BICYCLE], ids=["car", "bicycle"])
def test_inbound_peaks_in_the_morning_outbound_in_the_evening(truth_run, vehicle):
    profile, truth, approaches, matrix, _ = truth_run
    morning, evening = _peaks(profile)
    kinds, inbound = _kinds(truth, approaches), _inbound(truth, approaches)
    ratio = _weekday_hour(matrix[..., vehicle], morning) / _weekday_hour(
        matrix[..., vehicle], evening
    )
    n_dir = len(features.DIRECTIONS)
    for first in range(0, len(approaches), n_dir):
        block = slice(first, first + n_dir)
        if kinds[first] not in TIDAL_KINDS:
            continue
        w, r = inbound[block], ratio[block]
        into, out_of = r[w.argmax()], r[w.argmin()]
        assert into > 1.0 > out_of, (approaches[first], r, w)
        assert into / out_of > 2.0, (approaches[first], r, w)
        # Monotone in the inbound weight: the tide follows the cosine.
        assert (np.diff(r[np.argsort(w)]) > 0).all(), (approaches[first], r, w)


def _kind_profile(truth, approaches, matrix, kind: str, vehicle: int) -> np.ndarray:
    """(7, 24) summed over the approaches of one kind; one kind's weekly shape."""
    chosen = _kinds(truth, approaches) == kind
    assert chosen.any(), kind
    return matrix[chosen, :, vehicle].sum(axis=0).reshape(features.DAYS_PER_WEEK, HOURS)


def test_school_has_the_school_run(truth_run):
    profile, truth, approaches, matrix, _ = truth_run
    for vehicle in (CAR, BICYCLE):
        week = _kind_profile(truth, approaches, matrix, "school", vehicle)
        weekday = week[:5].mean(axis=0)
        drop_off, pick_up = profile.school_peaks
        assert abs(weekday[:12].argmax() + 0.5 - drop_off) <= 1.0
        assert abs(12 + weekday[12:].argmax() + 0.5 - pick_up) <= 1.0
        assert 14 <= 12 + weekday[12:].argmax() <= 16  # 15:00-16:00, before the commute
        assert 12 + weekday[12:].argmax() < _peaks(profile)[1]
        assert weekday[18:].max() < 0.5 * weekday[12:].max()  # quiet after the school run
        assert week[5:].sum(axis=1).max() < 0.25 * week[:5].sum(axis=1).min()


def test_shopping_street_is_busiest_on_saturday(truth_run):
    profile, truth, approaches, matrix, _ = truth_run
    week = _kind_profile(truth, approaches, matrix, "shopping", CAR)
    daily = week.sum(axis=1)
    assert daily[5] > 1.2 * daily[:5].max()  # Saturday strongest
    assert daily[6] < 0.6 * daily[:5].min()  # Sunday low
    for day in range(6):
        assert 10 <= week[day].argmax() <= 19  # late morning to evening
        assert week[day, 10:20].sum() > 0.85 * daily[day]
    morning, _ = _peaks(profile)
    assert week[:5, morning].mean() < 0.5 * week[:5, 12:18].mean()  # no commuter peak


def test_night_truck_arterial_drives_at_night(truth_run):
    _, truth, approaches, matrix, _ = truth_run
    night_hours = [*range(0, 5), 22, 23]

    def night_share(kind):
        week = _kind_profile(truth, approaches, matrix, kind, TRUCK)
        return week[:, night_hours].sum() / week.sum()

    assert night_share("night_trucks") > 0.3
    assert night_share("radial") < 0.12
    # Sunday night trucks start at 22:00, not earlier (Sunday ban).
    week = _kind_profile(truth, approaches, matrix, "night_trucks", TRUCK)
    assert week[6, 23] > 3 * week[6, 18]


# --- sampled data follow the per-approach truth -----------------------------------------


def _observed(cells, approaches) -> np.ndarray:
    """(A, 168, V) from {(intersection, direction, type, dow, hour): count}."""
    index = {approach: a for a, approach in enumerate(approaches)}
    observed = np.zeros((len(approaches), 168, len(features.VEHICLE_TYPES)))
    for (site, direction, vehicle_type, day, hour), n in cells.items():
        observed[
            index[site, direction], day * HOURS + hour, features.VEHICLE_TYPES.index(vehicle_type)
        ] += n
    return observed


def _expected_and_variance(truth: dict, matrix: np.ndarray, occurrences) -> tuple:
    """Expected totals per (approach, weekday-hour, type) over the run and their variance:
    Poisson given the mean-1 lognormal noise (day x hour noise, independent per date)."""
    m = np.zeros(168)
    for (local_date, hour), n in occurrences.items():
        m[local_date.weekday() * HOURS + hour] += n
    noise_var = np.exp(truth["noise"]["day_sigma"] ** 2 + truth["noise"]["hour_sigma"] ** 2) - 1
    expected = m[None, :, None] * matrix
    return expected, expected + m[None, :, None] * noise_var * matrix**2


def _chi2(observed, expected, variance, min_expected=5.0) -> tuple[float, float]:
    cells = expected >= min_expected
    z = (observed[cells] - expected[cells]) / np.sqrt(variance[cells])
    return float((z**2).mean()), float(np.abs(z).max())


def _swap_inbound_outbound(matrix: np.ndarray) -> np.ndarray:
    """The truth with each intersection's N<->S and E<->W approaches exchanged."""
    n_dir = len(features.DIRECTIONS)
    swap = [features.DIRECTIONS.index(d) for d in ("S", "W", "N", "E")]
    by_site = matrix.reshape(-1, n_dir, *matrix.shape[1:])
    # The direction factors differ too: keep each approach's weekly volume, swap the shape.
    shape = by_site / by_site.mean(axis=2, keepdims=True)
    return (shape[:, swap] * by_site.mean(axis=2, keepdims=True)).reshape(matrix.shape)


def _ratios(matrix: np.ndarray, morning: int, evening: int) -> np.ndarray:
    """Weekday morning / evening car volume per approach."""
    return _weekday_hour(matrix[..., CAR], morning) / _weekday_hour(matrix[..., CAR], evening)


@pytest.fixture(scope="module")
def london_counts(tmp_path_factory):
    """28 days of London hourly counts (default size), aggregated per approach and cell."""
    out = tmp_path_factory.mktemp("counts") / "data"
    generator.generate(
        cities.get_city("london"), out, days=28, start_date=START, seed=SEED, kind="counts"
    )
    approaches, matrix = generator.load_approach_intensity(out)
    cells: dict = {}
    for path in helpers.data_files(out):
        for row in helpers.read_counts(path):
            key = (
                row[features.RAW_INTERSECTION],
                row[features.RAW_DIRECTION],
                row[features.RAW_VEHICLE_TYPE],
                *helpers.local_cell(row[features.RAW_HOUR_START]),
            )
            cells[key] = cells.get(key, 0) + row[features.RAW_COUNT]
    occurrences = helpers.local_hour_occurrences("Europe/London", START, 28)
    truth = generator.read_ground_truth(out)
    return truth, approaches, matrix, _observed(cells, approaches), occurrences


@pytest.fixture(scope="module")
def london_events(tmp_path_factory):
    """14 days of London vehicles (default size), counted per approach and cell."""
    out = tmp_path_factory.mktemp("events") / "data"
    generator.generate(cities.get_city("london"), out, days=14, start_date=START, seed=SEED + 1)
    approaches, matrix = generator.load_approach_intensity(out)
    cells: dict = {}
    for row in helpers.all_rows(out):
        key = (
            row[features.RAW_INTERSECTION],
            row[features.RAW_DIRECTION],
            row[features.RAW_VEHICLE_TYPE],
            *helpers.local_cell(row[features.RAW_TIMESTAMP]),
        )
        cells[key] = cells.get(key, 0) + 1
    occurrences = helpers.local_hour_occurrences("Europe/London", START, 14)
    truth = generator.read_ground_truth(out)
    return truth, approaches, matrix, _observed(cells, approaches), occurrences


@pytest.mark.parametrize("run", ["london_counts", "london_events"])
def test_sampled_cells_match_approach_intensity(request, run):
    truth, _, matrix, observed, occurrences = request.getfixturevalue(run)
    expected, variance = _expected_and_variance(truth, matrix, occurrences)
    chi2, worst = _chi2(observed, expected, variance)
    n_cells = int((expected >= 5).sum())
    assert n_cells > 5000, n_cells
    # Thousands of roughly standard normal z-scores: mean z^2 close to 1, none extreme.
    assert 0.85 < chi2 < 1.15, chi2
    assert worst < 7.0, worst  # lognormal noise: heavier tails than a normal's
    # Power: the same data against the truth with inbound and outbound swapped (about 3-4),
    # and against every approach having the city's shape, scaled (about 2.4-3).
    swapped = _expected_and_variance(truth, _swap_inbound_outbound(matrix), occurrences)
    assert _chi2(observed, *swapped)[0] > 2.0
    city = matrix.sum(axis=0)
    city_shaped = matrix.mean(axis=1, keepdims=True) * city / city.mean(axis=0)
    assert _chi2(observed, *_expected_and_variance(truth, city_shaped, occurrences))[0] > 1.7


def test_sampled_data_are_tidal(london_counts):
    truth, approaches, matrix, observed, _ = london_counts
    morning, evening = _peaks(cities.get_city("london"))
    kinds, inbound = _kinds(truth, approaches), _inbound(truth, approaches)
    true_ratio, seen_ratio = _ratios(matrix, morning, evening), _ratios(observed, morning, evening)
    n_dir = len(features.DIRECTIONS)
    checked = 0
    for first in range(0, len(approaches), n_dir):
        if kinds[first] not in TIDAL_KINDS:
            continue
        w = inbound[first : first + n_dir]
        into, out_of = first + w.argmax(), first + w.argmin()
        assert seen_ratio[into] > 1.0 > seen_ratio[out_of], approaches[first]
        tide_seen = seen_ratio[into] / seen_ratio[out_of]
        tide_true = true_ratio[into] / true_ratio[out_of]
        assert tide_seen == pytest.approx(tide_true, rel=0.4), approaches[first]
        checked += 1
    assert checked >= 15
