"""simulate(): SUMO days as the project's event files and ground truth, and its CLI."""

from __future__ import annotations

import argparse
import json
from datetime import date

import numpy as np
import pytest

from components.traffic_example_gen import inputs
from components.traffic_example_gen.parsing import parse_daily_file
from components.traffic_example_gen.splits import make_split_rule
from deploy.cli import simulate as cli
from deploy.datasets.output import MARKER_FILE
from deploy.datasets.simulation import demand, network, simulate
from deploy.datasets.synthetic import ground_truth, sampling
from deploy.datasets.synthetic.formats import COLUMNS
from tests.deploy.simulation.helpers import GRID_2X2, LONDON
from transforms import features

SPRING_FORWARD = "2026-03-29"  # London: 01:00 -> 02:00, a 23-hour Sunday


@pytest.fixture(scope="module")
def spring(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "london"
    summary = simulate.simulate(LONDON, out, days=1, start_date=SPRING_FORWARD, grid=GRID_2X2)
    return out, summary


def _parsed(out):
    files = inputs.list_daily_files(str(out))
    rule = make_split_rule(json.dumps({"kind": "hash", "eval_fraction": 0.5}), [])
    batches = [
        parsed
        for index, daily in enumerate(files)
        for _, parsed in parse_daily_file(
            daily, file_index=index, timezone=LONDON.timezone, split_rule=rule
        )
    ]
    return files, batches


def test_writes_one_event_file_per_date_the_network_and_the_truth(spring):
    out, summary = spring
    assert sorted(p.name for p in out.iterdir()) == [
        MARKER_FILE,
        f"{SPRING_FORWARD}.csv",
        ground_truth.GROUND_TRUTH_FILE,
        network.NET_FILE,
    ]
    assert summary.teleports == 0
    assert summary.total_rows == summary.rows_per_file[f"{SPRING_FORWARD}.csv"] > 10_000
    truth = ground_truth.read_ground_truth(out)
    assert truth["format_version"] == 2 and truth["simulation"]["source"] == "sumo"
    assert truth["simulation"]["peak_y"] == pytest.approx(0.8)


def test_event_files_parse_with_the_pipelines_parser_on_a_23_hour_day(spring):
    out, _ = spring
    files, batches = _parsed(out)
    assert [f.name for f in files] == [f"{SPRING_FORWARD}.csv"]
    assert sum(len(b.rejects) for b in batches) == 0
    hours = np.concatenate([b.chunk.hour for b in batches])
    assert sorted(set(hours.tolist())) == [h for h in range(24) if h != 1]
    ts = np.concatenate([b.chunk.ts_us for b in batches])
    assert (np.diff(ts) >= 0).all()  # sorted by time
    ids = set(np.concatenate([b.intersection for b in batches]).tolist())
    assert ids == {"LDN-0001", "LDN-0002", "LDN-0003", "LDN-0004"}
    header = (out / f"{SPRING_FORWARD}.csv").read_text().splitlines()[:2]
    assert header[0] == ",".join(COLUMNS)
    assert header[1].startswith(f"{SPRING_FORWARD}T00:00:") and "+00:00," in header[1]


def test_stop_line_counts_per_approach_match_the_truth_within_poisson_bounds(spring):
    out, _ = spring
    _, batches = _parsed(out)
    keys = np.concatenate([b.intersection + "/" + b.direction for b in batches])
    approaches, rates = ground_truth.load_approach_intensity(out)  # (A, 168, V)
    cells = sampling.local_hour_cells(LONDON.timezone, date.fromisoformat(SPRING_FORWARD), 1)
    rows = cells.day_of_week * features.HOURS_PER_DAY + cells.hour
    expected = rates[:, rows].sum(axis=(1, 2))
    assert len(approaches) == 16
    for (site, direction), mean in zip(approaches, expected, strict=True):
        count = int((keys == f"{site}/{direction}").sum())
        assert abs(count - mean) <= 4 * np.sqrt(mean) + 5, (site, direction, count, mean)
    types = np.concatenate([b.chunk.vehicle_type for b in batches])
    for v, vehicle in enumerate(features.VEHICLE_TYPES):
        mean = rates[:, rows, v].sum()
        assert abs((types == v).sum() - mean) <= 4 * np.sqrt(mean) + 5, vehicle


def test_an_autumn_date_has_25_hours(tmp_path):
    out = tmp_path / "autumn"
    simulate.simulate(
        LONDON,
        out,
        days=1,
        start_date="2026-10-25",
        grid=network.GridSpec(rows=1, cols=1),
        params=demand.DemandParams(peak_y=0.3),
    )
    _, batches = _parsed(out)
    ts = np.concatenate([b.chunk.ts_us for b in batches])
    hours_utc = np.unique(ts // 3_600_000_000)
    assert len(hours_utc) == 25


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="traffic-pipeline")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["simulate", *argv])
    return args.func(args)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--grid", "2by2"], "not ROWSxCOLS"),
        (["--grid", "0x2"], "at least 1x1"),
        (["--days", "0"], "days must be a positive"),
        (["--start", "2026-13-01"], "not YYYY-MM-DD"),
        (["--network", "missing.net.xml"], "is not a file"),
        (["--peak-y", "1.2"], "peak_y"),
        (["--hours", "14-10"], "0 <= FIRST < LAST <= 24"),
        (["--hours", "10-25"], "0 <= FIRST < LAST <= 24"),
        (["--hours", "ten"], "not FIRST-LAST"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert run_cli(["--city", "london", "--out", str(out), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: simulate: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_unknown_city_and_occupied_output_are_exit_2(tmp_path, capsys):
    assert run_cli(["--city", "atlantis", "--out", str(tmp_path / "a")]) == 2
    assert "unknown city" in capsys.readouterr().err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    assert run_cli(["--city", "london", "--out", str(tmp_path / "full")]) == 2
    assert "already holds data" in capsys.readouterr().err


def test_a_given_network_is_simulated_with_its_own_signals(tmp_path, capsys):
    built = network.build_grid(
        network.GridSpec(rows=1, cols=2), ("X-1", "X-2"), tmp_path / "given.net.xml"
    )
    out = tmp_path / "given"
    argv = ["--city", "london", "--out", str(out), "--network", str(built), "--days", "1"]
    assert run_cli([*argv, "--peak-y", "0.3"]) == 0
    assert "simulated 1 days" in capsys.readouterr().out
    approaches, _ = ground_truth.load_approach_intensity(out)
    assert {site for site, _ in approaches} == {"X-1", "X-2"}


def test_the_traffic_pipeline_cli_refuses_a_grid_and_a_network_in_one_line(tmp_path, capsys):
    from deploy.cli import main as cli_main

    argv = ["simulate", "--city", "london", "--out", str(tmp_path / "o"), "--grid", "2x2"]
    with pytest.raises(SystemExit) as exit_info:
        cli_main([*argv, "--network", "x.net.xml"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "--network" in err


def test_days_are_written_one_by_one_and_a_late_crossing_goes_to_the_next_date(tmp_path):
    out = tmp_path / "two"
    summary = simulate.simulate(
        LONDON,
        out,
        days=2,
        start_date="2026-03-16",
        grid=network.GridSpec(rows=1, cols=1),
        params=demand.DemandParams(peak_y=0.3),
    )
    assert sorted(summary.rows_per_file) == ["2026-03-16.csv", "2026-03-17.csv"]
    _, batches = _parsed(out)
    assert sum(len(b.rejects) for b in batches) == 0
    rows = sum(len(b.chunk) for b in batches)
    assert rows == summary.total_rows == sum(summary.rows_per_file.values())
    second = (out / "2026-03-17.csv").read_text().splitlines()
    assert second[1].startswith("2026-03-17T00:0")


def test_dates_simulated_at_once_write_the_same_files_as_one_by_one(tmp_path):
    one_grid = network.GridSpec(rows=1, cols=1)
    light = demand.DemandParams(peak_y=0.3)
    kwargs = {"days": 3, "start_date": "2026-03-16", "grid": one_grid, "params": light}
    serial = simulate.simulate(LONDON, tmp_path / "serial", workers=1, **kwargs)
    parallel = simulate.simulate(LONDON, tmp_path / "parallel", workers=3, **kwargs)
    assert parallel.rows_per_file == serial.rows_per_file
    for name in serial.rows_per_file:
        assert (tmp_path / "parallel" / name).read_bytes() == (
            tmp_path / "serial" / name
        ).read_bytes(), name


def test_hours_simulate_only_those_local_hours_of_each_date(tmp_path):
    out = tmp_path / "hours"
    kwargs = {"days": 2, "start_date": "2026-03-28", "grid": network.GridSpec(rows=1, cols=1)}
    # Saturday and the spring-forward Sunday (its 10:00 is UTC+1): local 10:00-12:00 only
    summary = simulate.simulate(LONDON, out, hours=(10, 12), **kwargs)
    _, batches = _parsed(out)
    local_hours = np.concatenate([b.chunk.hour for b in batches])  # the parser's own clock
    assert summary.total_rows == local_hours.size > 100
    assert set(local_hours.tolist()) == {10, 11}
    assert sorted(summary.rows_per_file) == ["2026-03-28.csv", "2026-03-29.csv"]
    assert all(n > 0 for n in summary.rows_per_file.values())
    truth = ground_truth.read_ground_truth(out)
    assert truth["simulation"]["local_hours"] == [10, 12]
