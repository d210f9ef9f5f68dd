"""Session fixtures of the fault-injection suite: data generated once, one shared run.

``baseline`` runs London once on data with row-level faults injected (a row dated a
year before its file's day, a non-UTF-8 byte, a duplicated row, a row with 3 of 6
fields, a last row cut inside its last value, a day cut at 14:31, an extra header-only
day) while Frankfurt runs at the same time on the same output dir, as a subprocess
whose ``TMPDIR`` is a fresh dir (what it holds afterwards is recorded). Later cases run
against that output dir (its MLMD store, its published models) and each asserts that
``serving/`` did not change when nothing should have been pushed.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os

import pytest

from deploy.runners.local.runner import LocalLayout
from tests import e2e_support
from tests.reliability import faults


@pytest.fixture(scope="session")
def london_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("london-data")
    return e2e_support.generate(
        "london", root / "data", days=faults.DAYS, intersections=str(faults.INTERSECTIONS)
    )


@pytest.fixture(scope="session")
def frankfurt_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("frankfurt-data")
    return e2e_support.generate("frankfurt", root / "data", days=4, intersections="1")


@pytest.fixture(scope="session")
def london_config(tmp_path_factory):
    root = tmp_path_factory.mktemp("london-config")
    return faults.write_config(root / "london.yaml", "london", "Europe/London")


def _inject_row_faults(data):
    """Returns {reason: (file, row, field, value)} of the faults added to ``data``."""
    files = faults.daily_files(data)
    year_early, non_utf8, duplicated = files[2], files[3], files[1]
    injected = {}
    faults.cut_day_at(files[faults.CUT_DAY], faults.CUT_AT)  # first: rows are appended later
    short_row = f"{non_utf8.stem}T08:00:00+00:00,LDN-0001,N".encode()
    faults.insert_row(non_utf8, faults.SHORT_ROW, short_row)
    injected["wrong_field_count"] = (
        non_utf8,
        faults.SHORT_ROW,
        "*",
        f"3 fields, the header has 6: {short_row.decode()}",
    )
    day = year_early.stem
    stamp = f"{int(day[:4]) - 1}{day[4:]}T08:00:00+00:00"
    faults.append_rows(year_early, f"{stamp},LDN-0001,N,car,1,30.0".encode())
    injected["date_outside_file"] = (year_early, faults.row_count(year_early), "timestamp", stamp)
    faults.append_rows(
        non_utf8, f"{non_utf8.stem}T08:00:00+00:00,LDN-0\xff01,N,car,1,30.0".encode("latin-1")
    )
    injected["invalid_utf8"] = (
        non_utf8,
        faults.row_count(non_utf8),
        "intersection_id",
        "LDN-0\\xff01",
    )
    faults.append_rows(duplicated, faults.data_line(duplicated, 1))
    injected["duplicate"] = (duplicated, faults.row_count(duplicated), "*", None)
    header = files[-1].read_bytes().split(b"\n")[0]
    empty_day = datetime.date.fromisoformat(files[-1].stem) + datetime.timedelta(days=1)
    (data / f"{empty_day}.csv").write_bytes(header + b"\n")
    cut_line = faults.cut_last_row(files[0], keep=-2)  # last: the file ends inside a row
    injected["truncated_row"] = (files[0], faults.row_count(files[0]), "*", cut_line)
    return injected


@pytest.fixture(scope="session")
def baseline(tmp_path_factory, london_data, london_config, frankfurt_data):
    """London (with row faults) and Frankfurt run at the same time on one output dir."""
    root = tmp_path_factory.mktemp("baseline")
    data = faults.copy_data(london_data, root / "data")
    injected = _inject_row_faults(data)
    output = root / "output"
    frankfurt_config = faults.write_config(
        root / "frankfurt.yaml",
        "frankfurt",
        "Europe/Berlin",
        data={"split": {"kind": "time", "eval_days": 1}},
    )
    frankfurt_tmpdir = root / "frankfurt-tmpdir"
    frankfurt_tmpdir.mkdir()
    tmpdir_before = sorted(os.listdir(frankfurt_tmpdir))
    frankfurt = faults.start_cli(
        faults.run_args("frankfurt", frankfurt_config, frankfurt_data, output),
        root / "frankfurt.log",
        TMPDIR=str(frankfurt_tmpdir),
    )
    try:
        with contextlib.redirect_stdout(io.StringIO()) as london_out:
            london_code = e2e_support.run("london", london_config, data, output)
    finally:
        frankfurt_code = frankfurt.wait(timeout=600)
    return {
        "runs": {city: faults.first_run_id(output, city) for city in ("london", "frankfurt")},
        "root": root,
        "data": data,
        "injected": injected,
        "config": london_config,
        "output": output,
        "layout": LocalLayout(output),
        "london_code": london_code,
        "london_out": london_out.getvalue(),
        "frankfurt_code": frankfurt_code,
        "frankfurt_log": (root / "frankfurt.log").read_text(),
        "frankfurt_tmpdir_before": tmpdir_before,
        "frankfurt_tmpdir_after": sorted(os.listdir(frankfurt_tmpdir)),
    }
