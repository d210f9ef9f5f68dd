"""Selection of daily input files by date range."""

from __future__ import annotations

import pytest

from components.traffic_example_gen.inputs import list_daily_files
from components.traffic_example_gen.reading import CSV, PARQUET


def _touch(tmp_path, *names):
    for name in names:
        (tmp_path / name).write_bytes(b"")


def test_selects_inclusive_range_and_ignores_other_files(tmp_path):
    _touch(
        tmp_path,
        "2026-03-27.csv",
        "2026-03-28.csv.gz",
        "2026-03-29.parquet",
        "2026-03-30.csv",
        "ground_truth.json",
        "2026-13-01.csv",
        "notes-2026-03-28.csv",
    )
    files = list_daily_files(str(tmp_path), "2026-03-28", "2026-03-29")
    assert [(f.name, f.file_format, f.gzipped) for f in files] == [
        ("2026-03-28.csv.gz", CSV, True),
        ("2026-03-29.parquet", PARQUET, False),
    ]
    assert len(list_daily_files(str(tmp_path))) == 4  # open range


def test_no_match_names_input_base_and_range(tmp_path):
    _touch(tmp_path, "2026-03-27.csv")
    with pytest.raises(ValueError, match=r"no daily input file.*input_base=.*2026-04-01 \.\. "):
        list_daily_files(str(tmp_path), "2026-04-01", "")


def test_empty_directory_and_missing_directory(tmp_path):
    with pytest.raises(ValueError, match="no daily input file"):
        list_daily_files(str(tmp_path))
    with pytest.raises(ValueError, match="not a directory"):
        list_daily_files(str(tmp_path / "nope"))


def test_bad_bounds_and_duplicate_days(tmp_path):
    _touch(tmp_path, "2026-03-27.csv", "2026-03-27.parquet")
    with pytest.raises(ValueError, match="two input files for 2026-03-27"):
        list_daily_files(str(tmp_path))
    with pytest.raises(ValueError, match="span_begin is after span_end"):
        list_daily_files(str(tmp_path), "2026-03-28", "2026-03-27")
    with pytest.raises(ValueError, match="span_end='March'"):
        list_daily_files(str(tmp_path), "", "March")
