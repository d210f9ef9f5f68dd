"""Reading the eval window from daily files: local hours across DST, zeros, the split."""

from __future__ import annotations

import csv
import json
from datetime import date

import numpy as np
import pytest

from deploy.datasets.synthetic.ground_truth import load_approach_intensity
from deploy.insights import observed
from tests.deploy.insights.accuracy_data import write_counts, write_truth
from transforms import features

LONDON = "Europe/London"
APPROACHES = [("A1", "N"), ("A1", "S")]
CAR, BICYCLE = 0, 3


def _mean(i, d, t, day, hour):
    return 3.0 + hour if t == CAR else 1.0


def test_counts_eval_window_has_the_repeated_autumn_hour_twice(tmp_path):
    # 12..25 Oct 2026; London's clocks go back on Sunday 25 Oct (01:00 happens twice).
    write_counts(tmp_path, date(2026, 10, 12), 14, LONDON, _mean, APPROACHES, (CAR, BICYCLE))
    obs = observed.load(str(tmp_path), LONDON, eval_days=7)
    assert obs.data_kind == features.DATA_KIND_COUNTS
    assert obs.approaches == APPROACHES and obs.eval_from == 20261019
    per_approach_type = 6 * 24 + 25
    assert len(obs.eval.count) == per_approach_type * len(APPROACHES) * 2
    sunday_1am = features.all_day_hours().index((6, 1))
    car_n = (obs.eval.approach == 0) & (obs.eval.vehicle_type == CAR)
    assert (obs.eval.cell[car_n] == sunday_1am).sum() == 2
    assert len(np.unique(obs.eval.utc_hour[car_n])) == per_approach_type
    # Train: 7 days of 24 hours; sums count each row as one hour of exposure.
    vehicles, hours = obs.sums(obs.train)
    assert hours.shape == (2, features.DAY_HOUR_CELLS, 4)
    assert hours[0, 8, CAR] == 1 and hours[0, 8, 1] == 0  # no truck rows: not observed
    assert vehicles.sum() == obs.train.count.sum()


def test_missing_count_rows_are_not_observed_and_duplicates_keep_the_first(tmp_path):
    write_counts(tmp_path, date(2026, 1, 5), 3, LONDON, _mean, APPROACHES[:1], (CAR,))
    path = tmp_path / "2026-01-07.csv"
    rows = list(csv.reader(path.open()))
    header, body = rows[0], rows[1:]
    body = [r for r in body if not r[0].startswith("2026-01-07T05")]  # a missing hour
    body.append([*body[0][:4], "999"])  # a duplicate of the first row
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([header, *body])
    obs = observed.load(str(tmp_path), LONDON, eval_days=1)
    assert len(obs.eval.count) == 23
    assert 999 not in obs.eval.count


def test_events_count_every_approach_and_type_of_each_seen_hour(tmp_path):
    header = list(features.REQUIRED_RAW_COLUMNS)
    vehicles = {
        "2026-01-05": [("2026-01-05T08:10:00+00:00", "A1", "N", "car")],
        "2026-01-06": [
            ("2026-01-06T08:10:00+00:00", "A1", "N", "car"),
            ("2026-01-06T08:20:00+00:00", "A1", "N", "car"),
            ("2026-01-06T09:05:00+00:00", "A1", "S", "bus"),
            ("2026-01-06T09:06:00+00:00", "A1", "S", "lorry"),  # rejected: unknown type
        ],
    }
    for day, rows in vehicles.items():
        with open(tmp_path / f"{day}.csv", "w", newline="") as f:
            csv.writer(f).writerows([header, *rows])
    obs = observed.load(str(tmp_path), LONDON, eval_days=1)
    assert obs.data_kind == features.DATA_KIND_EVENTS
    # eval: 2 seen hours x 2 approaches x 4 types, zeros included
    assert len(obs.eval.count) == 2 * 2 * 4 and obs.eval.count.sum() == 3
    tue_8 = features.all_day_hours().index((1, 8))
    hit = (obs.eval.cell == tue_8) & (obs.eval.approach == 0) & (obs.eval.vehicle_type == CAR)
    assert obs.eval.count[hit].tolist() == [2.0]
    _, hours = obs.sums(obs.train)
    assert hours.shape == (features.DAY_HOUR_CELLS,) and hours.sum() == 1


def test_approach_intensity_reader(tmp_path):
    path = tmp_path / "ground_truth.json"
    write_truth(path, _mean, APPROACHES, (CAR,))
    names, table = load_approach_intensity(str(path))
    assert names == APPROACHES and table.shape == (2, 168, 4)
    assert table[1, features.all_day_hours().index((2, 7)), CAR] == 10.0
    assert (table[..., BICYCLE] == 0).all()
    reordered = observed.align(names, table, APPROACHES[::-1])
    np.testing.assert_array_equal(reordered[0], table[1])
    with pytest.raises(ValueError, match="no truth for 1"):
        observed.align(names, table, [("B9", "E")])
    truth = json.loads(path.read_text())
    truth["approach_intensity"][0]["intensity"]["car"] = [[1.0] * 24] * 6
    path.write_text(json.dumps(truth))
    with pytest.raises(ValueError, match=r"approach_intensity\[0\].intensity"):
        load_approach_intensity(str(path))
    del truth["approach_intensity"]
    path.write_text(json.dumps(truth))
    with pytest.raises(ValueError, match="'approach_intensity' is missing"):
        load_approach_intensity(str(path))
