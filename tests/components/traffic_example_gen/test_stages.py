"""Pipeline stages: approach shards and small staging flushes change nothing but layout."""

from __future__ import annotations

import shutil

from components.traffic_example_gen import executor, stages, staging
from components.traffic_example_gen.spans import list_daily_files
from tests.components.traffic_example_gen.helpers import (
    int_properties,
    read_examples,
    read_rejects,
    run_executor,
)
from tests.components.traffic_example_gen.test_executor import REJECTS_DAY, SPRING, _write_days


def _run(tmp_path, name):
    return run_executor(tmp_path / "in", tmp_path / name, max_reject_fraction=1.0)


def test_shards_and_flushes_give_identical_examples_and_remove_staging(tmp_path, monkeypatch):
    days = dict(SPRING)
    days["2026-03-29.csv"] = SPRING["2026-03-29.csv"] + REJECTS_DAY
    _write_days(tmp_path / "in", days)
    # Rows of the 29th in the file of the 30th: all rejected as date_outside_file.
    shutil.copy(tmp_path / "in" / "2026-03-29.csv", tmp_path / "in" / "2026-03-30.csv")
    plain, plain_rejects = _run(tmp_path, "plain")
    assert not (tmp_path / "plain" / "rejects" / staging.STAGING_DIR_NAME).exists()

    monkeypatch.setattr(executor, "DAY_GROUP_BYTES", 64)  # several approach shards per day
    monkeypatch.setattr(stages, "STAGE_ROWS", 2)  # stage every couple of rows
    monkeypatch.setattr(stages, "TAIL_SHARDS", 3)
    assert executor.day_shards_for(list_daily_files(str(tmp_path / "in"), "", "")) > 1
    sharded, sharded_rejects = _run(tmp_path, "sharded")

    assert int_properties(sharded) == int_properties(plain)
    for split in ("train", "eval"):
        assert read_examples(sharded, split) == read_examples(plain, split)
    assert read_rejects(sharded_rejects) == read_rejects(plain_rejects)
    assert not (tmp_path / "sharded" / "rejects" / staging.STAGING_DIR_NAME).exists()
