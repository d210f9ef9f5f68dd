"""benchmarks.warm_start_days: the days-worth reading of the cold curve, and the whole
benchmark on daily files given as data directories (tiny generated cities, real pipeline)."""

from __future__ import annotations

import datetime
import json
import math
import re
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import tensorflow as tf

from benchmarks import warm_start_days
from benchmarks.days_curve import days_worth
from deploy.datasets.synthetic import cities, generator
from transforms import features

# A cold curve: 10 nats on 1 day, 9 on 2, 8 on 4.
COLD = {1: 10.0, 2: 9.0, 4: 8.0}


@pytest.mark.parametrize(
    ("loss", "days"),
    [
        (10.0, 1.0),
        (9.0, 2.0),
        (8.5, 2.0 * 2.0**0.5),  # half way from 2 to 4 days in log days
        (9.75, 2.0**0.25),
    ],
)
def test_days_worth_reads_the_cold_curve_in_log_days(loss, days):
    assert days_worth(COLD, loss).days == pytest.approx(days)


def test_days_worth_outside_the_curve_says_which_side():
    assert days_worth(COLD, 10.5).describe() == "less than 1"
    assert days_worth(COLD, 7.9).describe() == "more than 4"


def test_days_worth_takes_the_first_crossing_of_a_non_monotonic_curve():
    bumpy = {1: 10.0, 2: 8.0, 4: 9.0, 7: 7.0}
    assert days_worth(bumpy, 8.5).days == pytest.approx(2.0**0.75)


def test_days_worth_refuses_a_non_finite_loss():
    with pytest.raises(ValueError, match="non-finite"):
        days_worth({1: float("nan"), 2: 9.0}, 8.0)


@pytest.fixture(scope="module")
def cities_dir(tmp_path_factory):
    """A tiny London (donor, 4 days) and Frankfurt (target, 3 days)."""
    root = tmp_path_factory.mktemp("cities")
    tiny = {"intersections": 2, "scale": 0.3}
    generator.generate(cities.get_city("london"), root / "london", days=4, **tiny)
    generator.generate(cities.get_city("frankfurt"), root / "frankfurt", days=3, **tiny)
    return root


def test_too_few_target_days_fail_before_any_training(cities_dir, tmp_path, capsys):
    code = warm_start_days.main(
        [
            "--out",
            str(tmp_path / "out"),
            "--donor-data",
            str(cities_dir / "london"),
            "--target-data",
            str(cities_dir / "frankfurt"),
            "--cold-days",
            "1,2",
            "--eval-days",
            "2",
        ]
    )
    err = capsys.readouterr().err.strip()
    assert code == 1
    assert err.splitlines() == [err]
    assert str(cities_dir / "frankfurt") in err and "3 daily files" in err
    assert not (tmp_path / "out" / "donor").exists()  # the donor was not trained


def _eval_rows(examples_uri: str, from_utc: int) -> list[tuple]:
    """(timestamp, intersection, direction, headway) of the eval examples at or after
    ``from_utc`` (epoch seconds), sorted."""
    files = tf.io.gfile.glob(f"{examples_uri}/Split-eval/*")
    rows = []
    for record in tf.data.TFRecordDataset(files, compression_type="GZIP"):
        f = tf.train.Example.FromString(record.numpy()).features.feature
        if f[features.TIMESTAMP_UTC].int64_list.value[0] < from_utc:
            continue
        rows.append(
            (
                f[features.TIMESTAMP_UTC].int64_list.value[0],
                f[features.INTERSECTION].bytes_list.value[0],
                f[features.DIRECTION].bytes_list.value[0],
                round(f[features.SECONDS_TO_NEXT_VEHICLE].float_list.value[0], 3),
            )
        )
    return sorted(rows)


@pytest.mark.slow
def test_benchmark_on_data_dirs_prints_finite_figures_on_identical_eval_rows(
    cities_dir, tmp_path, capsys
):
    out, plot = tmp_path / "out", tmp_path / "curve.png"
    code = warm_start_days.main(
        [
            "--out",
            str(out),
            "--donor-data",
            str(cities_dir / "london"),
            "--donor-train-steps",
            "20",
            "--target-data",
            str(cities_dir / "frankfurt"),
            "--cold-days",
            "1,2",
            "--warm-days",
            "1",
            "--eval-days",
            "1",
            "--train-steps",
            "20",
            "--eval-steps",
            "5",
            "--plot",
            str(plot),
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed

    # The table: one row per arm, every loss and rho a finite number.
    table = {}
    for line in printed.splitlines():
        match = re.match(r"\s+(cold|frozen|fine_tune)\s+(\d+)\s+([\d,]+)\s+(\S+)\s+(\S+)", line)
        if match:
            table[(match[1], int(match[2]))] = (float(match[4]), float(match[5]))
    assert set(table) == {("cold", 1), ("cold", 2), ("frozen", 1), ("fine_tune", 1)}
    assert all(math.isfinite(v) for row in table.values() for v in row)
    for mode in features.WARM_START_MODES:
        headline = re.search(rf"HEADLINE: a {mode} warm start on 1 day is worth (.+) days", printed)
        assert headline, printed
        value = headline[1]
        assert re.fullmatch(r"\d+\.\d|less than 1|more than 2", value), value
    assert "profile computed from" in printed  # the reference came from the target data

    results = json.loads((out / "results.json").read_text())
    arms = results["arms"]
    assert len(arms) == 4
    for arm in arms:
        assert all(np.isfinite(arm[k]) for k in ("loss", "headway_nll", "type_xent"))
        assert np.isfinite(arm["embedding_rho"])
        assert arm["loss"] == pytest.approx(table[(arm["mode"], arm["days"])][0], abs=1e-4)
    # Two day counts, two ExampleGen runs: from the last day's local midnight on, their
    # eval splits hold the very same rows (the 1-day run's split also holds day 2).
    uris = sorted({arm["eval_examples_uri"] for arm in arms})
    assert len(uris) == 2
    last_day = datetime.datetime(2026, 3, 18, tzinfo=ZoneInfo("Europe/Berlin"))
    assert sorted(p.name for p in (cities_dir / "frankfurt").glob("*.csv"))[-1] == "2026-03-18.csv"
    first, second = (_eval_rows(uri, int(last_day.timestamp())) for uri in uris)
    assert first == second and len(first) == results["eval_rows"]
    assert len(_eval_rows(uris[0], 0)) != len(_eval_rows(uris[1], 0))
    train_rows = {a["days"]: a["train_rows"] for a in arms}
    assert train_rows[2] > train_rows[1] > 0
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
