"""The CLI contract: exact CSV header, and one line plus exit code 2 for bad input."""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from deploy.cli import main as cli_main

HEADER_AT = (
    "intersection_id,direction,local_time,seconds_to_next_vehicle,car,truck,bus,bicycle,total"
)
HEADER_WEEK = (
    "intersection_id,direction,day_of_week,hour,seconds_to_next_vehicle,car,truck,bus,bicycle,total"
)


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_predict_csv_headers_are_exact(model_dir, capsys):
    args = ["predict", "--model", model_dir, "--intersection", "X002", "--direction", "E"]
    assert cli_main([*args, "--at", "2026-10-25T00:30", "--hours", "3", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert ",".join(rows[0]) == HEADER_AT
    # 25 Oct 2026: London's 01:00-02:00 happens twice (BST, then GMT)
    assert [r[2] for r in rows[1:]] == [
        "2026-10-25T00:30+01:00",
        "2026-10-25T01:30+01:00",
        "2026-10-25T01:30+00:00",
    ]
    assert cli_main([*args, "--week", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == HEADER_WEEK and len(lines) == 1 + 168


def test_bad_input_is_one_line_and_exit_code_2(model_dir, tmp_path, capsys):
    empty = tmp_path / "output"
    empty.mkdir()
    cases = [
        (["predict", "--city", "london", "--output", str(empty), "--week"], "no pushed model"),
        (["predict", "--model", str(tmp_path), "--week"], "is not a traffic-embedding model"),
        (["predict", "--city", "atlantis", "--output", str(empty), "--week"], "unknown city"),
        (["predict", "--model", model_dir, "--at", "2026-13-40T99:00"], "not an ISO-8601"),
        (["predict", "--model", model_dir, "--at", "2026-03-29T01:15"], "DST gap"),
        (
            ["explain", "--city", "atlantis", "--output", str(empty), "--report", str(tmp_path)],
            "unknown city",
        ),
    ]
    for argv, message in cases:
        assert cli_main(argv) == 2, argv
        assert message in _one_error_line(capsys), argv


def test_all_needs_the_recorded_approaches(model_dir, tmp_path, capsys):
    old = tmp_path / "old_model"
    shutil.copytree(model_dir, old)
    (old / "approaches.json").unlink()  # as exported before approaches were recorded
    assert cli_main(["predict", "--model", str(old), "--week"]) == 2
    assert "has no approaches.json" in _one_error_line(capsys)
    argv = ["predict", "--model", str(old), "--week", "--intersection", "X001", "--direction", "N"]
    assert cli_main([*argv, "--format", "json"]) == 0
    assert '"intersection_id": "X001"' in capsys.readouterr().out


@pytest.mark.parametrize("fmt", ["table", "json"])
def test_other_formats_write_to_a_file(model_dir, tmp_path, fmt):
    out = tmp_path / f"p.{fmt}"
    argv = ["predict", "--model", model_dir, "--intersection", "X001", "--direction", "W"]
    assert (
        cli_main([*argv, "--at", "2026-03-31T08:00+01:00", "--format", fmt, "--out", str(out)]) == 0
    )
    assert "2026-03-31T08:00+01:00" in out.read_text()
