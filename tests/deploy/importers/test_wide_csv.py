"""``import --source wide-csv``: columns named by flags, per-row intersections and types,
DST per series, rejects; and generated counts pivoted to a wide CSV come back unchanged."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from deploy import cli
from deploy.datasets.synthetic import cities, generator
from tests.deploy.synthetic import helpers
from transforms import features

LONDON = "Europe/London"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(["import", "--source", "wide-csv", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def flags(out: Path) -> list[str]:
    return [
        "--out",
        str(out),
        "--time-column",
        "time",
        "--time-format",
        "%d.%m.%Y %H:%M",
        "--timezone",
        LONDON,
        "--direction",
        "nb=N",
        "--direction",
        "sb=S",
        "--intersection-column",
        "site",
        "--type-column",
        "kind",
    ]


def autumn_rows() -> list[list[str]]:
    """Two sites interleaved over London's 2026-10-25 (01:00 twice per site), 150 rows."""
    rows = [["time", "site", "kind", "nb", "sb"]]
    hours = [0, 1, 1, *range(2, 24)]  # the wall clock of the 25 real hours
    for hour in hours:
        for site in ("A-1", "B-2"):
            for kind in ("car", "bus", "truck"):
                rows.append([f"25.10.2026 {hour:02d}:00", site, kind, str(hour), "1"])
    return rows


def test_each_series_gets_both_offsets_of_the_repeated_hour(tmp_path, capsys):
    source = write(tmp_path / "counts.csv", autumn_rows())
    out = tmp_path / "out"
    code, stdout, stderr = run([str(source), *flags(out)], capsys)
    assert (code, stderr) == (0, "")
    rows = helpers.read_counts(out / "2026-10-25.csv")
    assert [p.name for p in helpers.data_files(out)] == ["2026-10-25.csv"]
    assert len(rows) == 25 * 2 * 3 * 2
    one_am = [
        (r["hour_start"], r["intersection_id"], r["vehicle_type"], r["direction"])
        for r in rows
        if r["hour_start"][11:13] == "01" and r["vehicle_type"] == "car"
    ]
    # Sorted by instant: BST (+01:00) first, then GMT (+00:00); per instant by site.
    assert one_am == [
        ("2026-10-25T01:00:00+01:00", "A-1", "car", "N"),
        ("2026-10-25T01:00:00+01:00", "A-1", "car", "S"),
        ("2026-10-25T01:00:00+01:00", "B-2", "car", "N"),
        ("2026-10-25T01:00:00+01:00", "B-2", "car", "S"),
        ("2026-10-25T01:00:00+00:00", "A-1", "car", "N"),
        ("2026-10-25T01:00:00+00:00", "A-1", "car", "S"),
        ("2026-10-25T01:00:00+00:00", "B-2", "car", "N"),
        ("2026-10-25T01:00:00+00:00", "B-2", "car", "S"),
    ]
    assert "read 150 rows (300 values): 300 written, 0 rejected, 0 missing" in stdout


def test_bad_rows_are_rejected_with_file_row_field(tmp_path, capsys):
    rows = autumn_rows()
    rows += [["26.10.2026 00:00", "A-1", "car", "1", "1"] for _ in range(1)]  # fine
    rows += [
        ["26.10.2026 01:30", "A-1", "car", "1", "1"],  # not on the hour
        ["26.10.2026 2am", "A-1", "car", "1", "1"],  # unparsable
        ["26.10.2026 03:00", "A-1", "lorry", "1", "1"],  # unknown type
        ["26.10.2026 04:00", "", "car", "1", "1"],  # blank site
        ["26.10.2026 05:00", "A-1", "car", "1.5", ""],  # non-integer; blank
        ["25.10.2026 01:00", "A-1", "car", "1", "1"],  # a third 01:00 for A-1 car
    ]
    rows += [["26.10.2026 06:00", "A-1", "car", "1", "1"]] * 2  # a duplicate hour
    rows += [
        [f"{d:02d}.11.2026 {h:02d}:00", "A-1", "car", "1", "1"]
        for d in range(1, 29)
        for h in range(24)
    ]
    source = write(tmp_path / "counts.csv", rows)
    out = tmp_path / "out"
    code, stdout, stderr = run([str(source), *flags(out)], capsys)
    assert (code, stderr) == (0, "")
    n = len(autumn_rows()) - 1
    for row, field, reason in [
        (n + 2, "time", "2026-10-26T01:30:00 is not on the hour"),
        (n + 3, "time", "cannot parse time '26.10.2026 2am'"),
        (n + 4, "kind", "vehicle type 'lorry' not in car, truck, bus, bicycle"),
        (n + 5, "site", "blank"),
        (n + 6, "nb", "count '1.5' is not a non-negative integer"),
    ]:
        assert f"{source}:{row}: {field}: {reason}" in stdout
    assert "... and 2 more rejects" in stdout
    # 150 + 1 + 6 + 2 + 672 rows; rejected: 2 values per bad row, 1 for the bad count.
    assert "read 831 rows (1662 values): 1648 written, 13 rejected, 1 missing" in stdout
    got = helpers.read_counts(out / "2026-10-26.csv")
    assert [(r["hour_start"], r["count"]) for r in got] == [
        ("2026-10-26T00:00:00+00:00", 1),
        ("2026-10-26T00:00:00+00:00", 1),
        ("2026-10-26T06:00:00+00:00", 1),
        ("2026-10-26T06:00:00+00:00", 1),
    ]


def test_the_reject_limit_and_missing_columns(tmp_path, capsys):
    rows = autumn_rows()
    rows[1][3] = "-1"
    rows[2][3] = "many"
    rows[3][4] = "x"
    rows[4][4] = "y"
    source = write(tmp_path / "counts.csv", rows)
    code, _, stderr = run([str(source), *flags(tmp_path / "out")], capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert stderr.startswith(f"error: {source}: 4 of 300 values rejected (1.3% > 1%)")
    assert not (tmp_path / "out").exists()
    argv = [str(source), *flags(tmp_path / "out"), "--direction", "eb=E"]
    code, _, stderr = run(argv, capsys)
    assert code == 2 and stderr.count("\n") == 1
    assert f"{source}: no column 'eb'" in stderr


@pytest.mark.parametrize(
    ("drop", "extra", "message"),
    [
        ("--timezone", [], "needs --timezone"),
        ("--time-column", [], "needs --time-column"),
        ("--type-column", [], "pass --vehicle-type TYPE or --type-column COLUMN"),
        (None, ["--vehicle-type", "car"], "--vehicle-type or --type-column, not both"),
        (None, ["--intersection", "X"], "--intersection or --intersection-column, not both"),
        (None, ["--check-total"], "--check-total applies to --source seattle-counter"),
        (None, ["--direction", "nb"], "expected COLUMN=DIR"),
    ],
)
def test_usage_errors(tmp_path, capsys, drop, extra, message):
    source = write(tmp_path / "c.csv", autumn_rows())
    argv = flags(tmp_path / "out")
    if drop:
        k = argv.index(drop)
        del argv[k : k + 2]
    code, _, stderr = run([str(source), *argv, *extra], capsys)
    assert code == 2 and stderr.count("\n") == 1 and message in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_argparse_errors_are_one_line_exit_2(tmp_path, capsys):
    source = write(tmp_path / "c.csv", autumn_rows())
    with pytest.raises(SystemExit) as exit_info:
        run([str(source), *flags(tmp_path / "out"), "--vehicle-type", "tram"], capsys)
    stderr = capsys.readouterr().err
    assert exit_info.value.code == 2 and stderr.count("\n") == 1
    assert "argument --vehicle-type: invalid choice: 'tram'" in stderr


def test_generated_counts_come_back_unchanged(tmp_path, capsys):
    """London counts (the autumn day included) pivoted to a wide CSV with naive local times,
    imported again: the same bytes as generated."""
    generated = generator.generate(
        cities.get_city("london"),
        tmp_path / "gen",
        days=2,
        start_date="2026-10-25",
        intersections=2,
        seed=4,
        kind="counts",
    )
    wide: dict[tuple, dict[str, int]] = defaultdict(dict)
    for path in helpers.data_files(generated.path):
        for row in helpers.read_counts(path):
            wall = datetime.fromisoformat(row["hour_start"]).strftime("%Y-%m-%d %H:%M")
            key = (row["hour_start"], wall, row["intersection_id"], row["vehicle_type"])
            wide[key][row["direction"]] = row["count"]
    header = ["when", "site", "type", *features.DIRECTIONS]
    # Keys in file order (hour by hour): each series meets its first 01:00 first.
    lines = [
        [wall, site, kind, *(str(cells[d]) for d in features.DIRECTIONS)]
        for (_, wall, site, kind), cells in wide.items()
    ]
    source = write(tmp_path / "wide.csv", [header, *lines])
    out = tmp_path / "out"
    argv = [str(source), "--out", str(out), "--time-column", "when", "--timezone", LONDON]
    argv += ["--intersection-column", "site", "--type-column", "type"]
    argv += [arg for d in features.DIRECTIONS for arg in ("--direction", f"{d}={d}")]
    code, stdout, _ = run(argv, capsys)
    assert code == 0
    assert f"{generated.total_rows} written, 0 rejected, 0 missing" in stdout
    names = [p.name for p in helpers.data_files(generated.path)]
    assert names == [p.name for p in helpers.data_files(out)]
    for name in names:
        assert (out / name).read_bytes() == (generated.path / name).read_bytes(), name
