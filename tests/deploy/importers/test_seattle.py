"""``import --source seattle-counter``: Socrata CSV and JSON exports, DST hours, rejects, CLI.

Expected rows are computed here with zoneinfo from the hours the test writes, never with
importer code; outputs are read with the independent counts reader of the generator tests.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deploy import cli
from tests.deploy.synthetic import helpers

SEATTLE = ZoneInfo("America/Los_Angeles")
TOTAL = "Fremont Bridge Sidewalks, south of N 34th St"
EAST = f"{TOTAL} Cyclist East Sidewalk"
WEST = f"{TOTAL} Cyclist West Sidewalk"
# JSON API keys of the same counter (Socrata's field names).
JSON_KEYS = {
    TOTAL: "fremont_bridge_sidewalks_south_of_n_34th_st",
    EAST: "fremont_bridge_sidewalks_south_of_n_34th_st_cyclist_east_sidewalk",
    WEST: "fremont_bridge_sidewalks_south_of_n_34th_st_cyclist_west_sidewalk",
}
GAP = datetime(2019, 3, 10, 2)  # 02:00 does not exist in Seattle on 2019-03-10
REPEATED = datetime(2019, 11, 3, 1)  # 01:00 occurs twice on 2019-11-03
BLANK_AT = datetime(2019, 3, 11, 7)  # the west cell of this hour is blank
BAD_AT = datetime(2019, 11, 4, 8)  # the east cell of this hour is "-3"


def local_hours() -> list[datetime]:
    """Seattle's real local hours (aware, fold set) of 2019-03-05..11 and 2019-10-29..11-04,
    in time order, from UTC hours converted by zoneinfo."""
    hours = []
    for first, last in (("2019-03-05", "2019-03-12"), ("2019-10-29", "2019-11-05")):
        instant = datetime.fromisoformat(first).replace(tzinfo=SEATTLE).astimezone(timezone.utc)
        end = datetime.fromisoformat(last).replace(tzinfo=SEATTLE).astimezone(timezone.utc)
        while instant < end:
            hours.append(instant.astimezone(SEATTLE))
            instant += timedelta(hours=1)
    return hours


def counts_of(k: int) -> tuple[int, int]:
    return (k * 7) % 23, (k * 5) % 19


def table() -> list[tuple[datetime, str, str, str]]:
    """(local wall time, east, west, total) rows in file order: every real hour, plus the
    spring-gap hour; one blank cell and one negative count."""
    rows = []
    for k, hour in enumerate(local_hours()):
        wall = hour.replace(tzinfo=None)
        if wall == GAP + timedelta(hours=1):
            rows.append((GAP, "4", "4", "8"))  # a clock that did not spring forward
        east, west = counts_of(k)
        cells = [str(east), str(west)]
        if wall == BLANK_AT:
            cells[1] = ""
        if wall == BAD_AT:
            cells[0] = "-3"
        rows.append((wall, *cells, str(east + west)))
    return rows


def expected_rows(site: str) -> dict[str, list[tuple]]:
    """Output rows per file, from the aware hours (no importer code): E before W."""
    out: dict[str, list[tuple]] = {}
    for k, hour in enumerate(local_hours()):
        east, west = counts_of(k)
        wall = hour.replace(tzinfo=None)
        stamp = hour.isoformat()
        rows = out.setdefault(f"{hour.date().isoformat()}.csv", [])
        if wall != BAD_AT:
            rows.append((stamp, site, "E", "bicycle", east))
        if wall != BLANK_AT:
            rows.append((stamp, site, "W", "bicycle", west))
    return out


def write_csv(path: Path, rows=None, header=(TOTAL, EAST, WEST)) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Date", *header])
        for wall, east, west, total in rows if rows is not None else table():
            writer.writerow([wall.strftime("%m/%d/%Y %I:%M:%S %p"), total, east, west][:4])
    return path


def write_json(path: Path) -> Path:
    records = []
    for wall, east, west, total in table():
        record = {"date": wall.strftime("%Y-%m-%dT%H:%M:%S.000"), JSON_KEYS[TOTAL]: total}
        for column, value in ((EAST, east), (WEST, west)):
            if value:  # Socrata leaves null cells out
                record[JSON_KEYS[column]] = value
        records.append(record)
    path.write_text(json.dumps(records))
    return path


def imported(out: Path) -> dict[str, list[tuple]]:
    return {
        p.name: [tuple(row.values()) for row in helpers.read_counts(p)]
        for p in helpers.data_files(out)
    }


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = cli.main(["import", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_test_data_has_the_dst_hours():
    walls = [hour.replace(tzinfo=None) for hour in local_hours()]
    assert walls.count(REPEATED) == 2 and GAP not in walls
    assert len(walls) == 7 * 24 - 1 + 7 * 24 + 1
    offsets = [h.isoformat() for h in local_hours() if h.replace(tzinfo=None) == REPEATED]
    assert offsets == ["2019-11-03T01:00:00-07:00", "2019-11-03T01:00:00-08:00"]


@pytest.mark.parametrize("layout", ["csv", "json"])
def test_socrata_export_becomes_daily_counts(tmp_path, capsys, layout):
    source = tmp_path / f"fremont.{layout}"
    (write_csv if layout == "csv" else write_json)(source)
    out = tmp_path / "out"
    code, stdout, stderr = run(
        ["--source", "seattle-counter", str(source), "--out", str(out)], capsys
    )
    assert (code, stderr) == (0, "")
    assert imported(out) == expected_rows("fremont")
    n_rows = len(local_hours()) + 1
    written = 2 * len(local_hours()) - 2
    assert (
        f"read {n_rows} rows ({2 * n_rows} values): {written} written, 3 rejected, 1 missing"
        in stdout
    )
    gap_row = next(k for k, row in enumerate(table(), 1) if row[0] == GAP)
    assert gap_row == 5 * 24 + 3  # 03-05..03-09, then 03-10 00:00 and 01:00
    east = EAST if layout == "csv" else JSON_KEYS[EAST]
    bad_row = next(k for k, row in enumerate(table(), 1) if row[0] == BAD_AT)
    time_column = "Date" if layout == "csv" else "date"
    assert f"{source}:{gap_row}: {time_column}: 2019-03-10T02:00:00 does not exist" in stdout
    assert f"{source}:{bad_row}: {east}: count '-3' is negative" in stdout
    # The autumn hour twice, with both offsets, in one file of 25 hours.
    autumn = imported(out)["2019-11-03.csv"]
    assert len({row[0] for row in autumn}) == 25
    assert [r[0] for r in autumn if r[0].startswith("2019-11-03T01")] == [
        "2019-11-03T01:00:00-07:00",
        "2019-11-03T01:00:00-07:00",
        "2019-11-03T01:00:00-08:00",
        "2019-11-03T01:00:00-08:00",
    ]
    assert len({row[0] for row in imported(out)["2019-03-10.csv"]}) == 23


def test_older_layout_nb_sb_and_flags(tmp_path, capsys):
    rows = [(datetime(2019, 1, 1, h), str(h), str(2 * h), str(3 * h)) for h in range(24)]
    source = write_csv(
        tmp_path / "x.csv",
        rows,
        header=("Fremont Bridge Total", "Fremont Bridge NB", "Fremont Bridge SB"),
    )
    out = tmp_path / "out"
    argv = ["--source", "seattle-counter", str(source), "--out", str(out)]
    argv += ["--intersection", "FRE-1", "--vehicle-type", "car", "--format", "parquet"]
    code, stdout, _ = run([*argv, "--timezone", "America/New_York", "--check-total"], capsys)
    assert code == 0
    got = helpers.read_counts(out / "2019-01-01.parquet")
    assert [tuple(r.values()) for r in got[:2]] == [
        ("2019-01-01T00:00:00-05:00", "FRE-1", "N", "car", 0),
        ("2019-01-01T00:00:00-05:00", "FRE-1", "S", "car", 0),
    ]
    assert sum(r["count"] for r in got if r["direction"] == "N") == sum(range(24))
    assert sum(r["count"] for r in got if r["direction"] == "S") == 2 * sum(range(24))
    assert "48 written, 0 rejected, 0 missing" in stdout


def test_check_total_rejects_a_row_whose_total_disagrees(tmp_path, capsys):
    rows = [(datetime(2019, 1, 1) + timedelta(hours=h), "1", "2", "3") for h in range(200)]
    rows[10] = (rows[10][0], "1", "2", "4")
    source = write_csv(
        tmp_path / "x.csv",
        rows,
        header=(
            "Fremont Bridge Total",
            "Fremont Bridge East Sidewalk",
            "Fremont Bridge West Sidewalk",
        ),
    )
    argv = ["--source", "seattle-counter", str(source), "--out", str(tmp_path / "out")]
    code, stdout, _ = run([*argv, "--check-total"], capsys)
    assert code == 0
    assert f"{source}:11: Fremont Bridge Total: total 4 != 3, the sum of" in stdout
    assert "398 written, 2 rejected, 0 missing" in stdout


def test_too_many_rejects_fail_with_one_line_and_write_nothing(tmp_path, capsys):
    rows = [(datetime(2019, 1, 1, h), "1", "x" if h < 3 else "2", "3") for h in range(24)]
    source = write_csv(tmp_path / "bad.csv", rows)
    out = tmp_path / "out"
    code, stdout, stderr = run(
        ["--source", "seattle-counter", str(source), "--out", str(out)], capsys
    )
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith(
        f"error: {source}: 3 of 48 values rejected"
    )
    assert f"{source}:1: {WEST}: count 'x' is not a non-negative integer" in stdout
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]


@pytest.mark.parametrize(
    ("header", "argv", "message"),
    [
        (("Count East",), [], "no column 'Date'"),
        ((TOTAL, EAST, "Mystery"), [], "cannot tell the direction of column 'Mystery'"),
        (("Bike North", "Ped North"), [], "'Bike North' and 'Ped North' both map to N"),
        ((EAST, WEST), ["--direction", "Nope=N"], "no column 'Nope'"),
        ((EAST, WEST), ["--direction", f"{EAST}=X"], "direction 'X' not in N, E, S, W"),
        ((EAST, WEST), ["--timezone", "Mars/Olympus"], "'Mars/Olympus' is not an IANA time zone"),
        ((EAST, WEST), ["--time-column", "Date"], "--time-column applies to --source wide-csv"),
        ((EAST, WEST), ["--check-total"], "needs one total column, found none"),
    ],
)
def test_bad_usage_is_one_line_exit_2(tmp_path, capsys, header, argv, message):
    source = tmp_path / "c.csv"
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [
                [("Date" if header[0] != "Count East" else "When"), *header],
                ["01/01/2019 12:00:00 AM", *["1"] * len(header)],
            ]
        )
    code, _, stderr = run(
        ["--source", "seattle-counter", str(source), "--out", str(tmp_path / "o"), *argv], capsys
    )
    assert code == 2
    assert stderr.count("\n") == 1 and message in stderr, stderr
    assert not (tmp_path / "o").exists()


def test_ped_and_bike_columns_can_be_mapped_explicitly(tmp_path, capsys):
    source = tmp_path / "elliott.csv"
    rows = [["Date", "Total", "Bike North", "Bike South", "Ped North", "Ped South"]]
    rows += [[f"01/01/2019 {h:02d}:00:00 AM", "10", "1", "2", "3", "4"] for h in range(1, 12)]
    with source.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    out = tmp_path / "out"
    argv = ["--source", "seattle-counter", str(source), "--out", str(out)]
    code, stdout, _ = run(
        [*argv, "--direction", "Bike North=N", "--direction", "Bike South=S"], capsys
    )
    assert code == 0
    assert "ignored columns (no --direction): Ped North, Ped South" in stdout
    got = helpers.read_counts(out / "2019-01-01.csv")
    assert {(r["direction"], r["count"]) for r in got} == {("N", 1), ("S", 2)}
    assert len(got) == 22


def test_missing_file_and_non_empty_output(tmp_path, capsys):
    code, _, stderr = run(
        ["--source", "seattle-counter", str(tmp_path / "none.csv"), "--out", str(tmp_path / "o")],
        capsys,
    )
    assert code == 2 and "none.csv: no such file" in stderr
    source = write_csv(tmp_path / "f.csv")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.csv").write_text("x\n")
    argv = ["--source", "seattle-counter", str(source), "--out", str(tmp_path / "o")]
    code, _, stderr = run(argv, capsys)
    assert code == 2 and "already holds data" in stderr
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["keep.csv"]
    code, _, stderr = run([*argv, "--overwrite"], capsys)
    assert code == 2 and "did not write (keep.csv)" in stderr
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["keep.csv"]
    assert run([*argv, "--overwrite", "--overwrite-foreign"], capsys)[0] == 0
    assert "keep.csv" not in [p.name for p in (tmp_path / "o").iterdir()]
