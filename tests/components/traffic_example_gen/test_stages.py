"""Pipeline stages: approach shards and small staging flushes change nothing but layout."""

from __future__ import annotations

import shutil

from components.traffic_example_gen import accounting, executor, stages, staging
from components.traffic_example_gen.inputs import list_daily_files
from tests.components.traffic_example_gen.helpers import (
    int_properties,
    read_examples,
    read_rejects,
    run_executor,
)
from tests.components.traffic_example_gen.test_executor import REJECTS_DAY, SPRING, _write_days


def _run(tmp_path, name):
    return run_executor(tmp_path / "in", tmp_path / name, max_reject_fraction=1.0)


def _assert_rejects_artifact_holds_only_rejects(out_dir):
    names = {p.name for p in (out_dir / "rejects").iterdir()}
    assert {n for n in names if not n.startswith(accounting.REJECTS_FILE_PREFIX)} == {
        accounting.COUNTS_FILE,
        stages.FILE_ERRORS_FILE,
    }


def test_shards_and_flushes_give_identical_examples_and_remove_staging(tmp_path, monkeypatch):
    days = dict(SPRING)
    days["2026-03-29.csv"] = SPRING["2026-03-29.csv"] + REJECTS_DAY
    _write_days(tmp_path / "in", days)
    # Rows of the 29th in the file of the 30th: all rejected as date_outside_file.
    shutil.copy(tmp_path / "in" / "2026-03-29.csv", tmp_path / "in" / "2026-03-30.csv")
    with monkeypatch.context() as patch:  # keep the staged files to see where they went
        patch.setattr(staging, "remove", lambda directory: None)
        plain, plain_rejects = _run(tmp_path, "plain")
    staged = list((tmp_path / "plain" / "tmp" / "1" / staging.STAGING_DIR_NAME).glob("*.arrow"))
    assert staged, "no staged files in the executor's temp dir"
    _assert_rejects_artifact_holds_only_rejects(tmp_path / "plain")

    monkeypatch.setattr(executor, "DAY_GROUP_BYTES", 64)  # several approach shards per day
    monkeypatch.setattr(stages, "STAGE_ROWS", 2)  # stage every couple of rows
    monkeypatch.setattr(stages, "TAIL_SHARDS", 3)
    assert executor.day_shards_for(list_daily_files(str(tmp_path / "in"), "", "")) > 1
    sharded, sharded_rejects = _run(tmp_path, "sharded")

    assert int_properties(sharded) == int_properties(plain)
    for split in ("train", "eval"):
        assert read_examples(sharded, split) == read_examples(plain, split)
    assert read_rejects(sharded_rejects) == read_rejects(plain_rejects)
    assert (tmp_path / "sharded" / "tmp" / "1").is_dir()
    assert not (tmp_path / "sharded" / "tmp" / "1" / staging.STAGING_DIR_NAME).exists()
    _assert_rejects_artifact_holds_only_rejects(tmp_path / "sharded")
