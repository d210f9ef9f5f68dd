"""End to end: ``traffic-pipeline backfill`` over three nights of generated London data.

Each night is one run with its own ``--as-of``: checked on the terminal (one line per
day, its window and days ingested/reused) and in ML Metadata (one run per night, its
ExampleGen's ``as_of`` and window). The same backfill again does no new work (each day
reported as already done, with its run; no new run), and a night whose day file is
missing (``max_missing_days: 0``) stops the backfill with exit 2, naming the day. A night
whose window files changed (a new mtime) runs again.
"""

from __future__ import annotations

import os
import re

import pytest

from components.traffic_example_gen import properties
from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.mlmd import metadata
from deploy.runners.local.layout import LocalLayout
from pipeline import names as wiring
from tests import e2e_support

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
WINDOW = 4
NIGHT = re.compile(
    r"^(\d{4}-\d\d-\d\d): (done|already done) \| run (\S+) \| "
    r"window: (\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d) \((\d+) days\), ingested (\d+), reused (\d+)"
    r" \| ",
    re.M,
)


def _backfill(config, data, output, first: str, last: str) -> int:
    return cli_main(
        [
            "backfill",
            "--city",
            "london",
            "--from",
            first,
            "--to",
            last,
            "--config",
            str(config),
            "--data",
            str(data),
            "--output",
            str(output),
            "--workers",
            "1",
            "--train-steps",
            "40",
        ]
    )


def _runs(layout: LocalLayout) -> list[str]:
    return metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON)


def _run_states(layout: LocalLayout, run_id: str) -> dict[str, str]:
    store = metadata.open_store(layout.metadata_path)
    return {e.node_id: e.state for e in metadata.run_executions(store, LONDON, run_id)}


def _example_gen_props(layout: LocalLayout, run_id: str) -> dict:
    store = metadata.open_store(layout.metadata_path)
    node = next(
        e for e in metadata.run_executions(store, LONDON, run_id) if e.node_id == wiring.EXAMPLE_GEN
    )
    return metadata.custom_properties(metadata.outputs_of(store, node.execution.id, "examples")[0])


def test_backfill_runs_each_night_once_is_idempotent_and_stops_at_a_failing_day(tmp_path, capsys):
    data = e2e_support.generate("london", tmp_path / "data")  # 2026-03-16 .. 2026-03-24
    config = e2e_support.write_config(
        tmp_path / "london.yaml",
        "london",
        "Europe/London",
        data={
            "split": {"kind": "time", "eval_days": 2},
            "window_days": WINDOW,
            "max_missing_days": 0,
        },
    )
    output = tmp_path / "output"
    layout = LocalLayout(output)
    capsys.readouterr()  # the generator's line

    assert _backfill(config, data, output, "2026-03-20", "2026-03-22") == exit_codes.OK
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 3, out  # one line per night, the runs' output in logs
    nights = NIGHT.findall(out)
    assert [m[:2] + m[3:] for m in nights] == [
        ("2026-03-20", "done", "2026-03-17", "2026-03-20", "4", "4", "0"),
        ("2026-03-21", "done", "2026-03-18", "2026-03-21", "4", "1", "3"),
        ("2026-03-22", "done", "2026-03-19", "2026-03-22", "4", "1", "3"),
    ]
    runs = _runs(layout)
    assert [m[2] for m in nights] == runs
    for run_id, day in zip(runs, ("2026-03-20", "2026-03-21", "2026-03-22"), strict=True):
        props = _example_gen_props(layout, run_id)
        assert (props[properties.AS_OF], props[properties.WINDOW_LAST]) == (day, day)
        assert _run_states(layout, run_id)[wiring.EXAMPLE_GEN] == "COMPLETE"
    for day in ("2026-03-20", "2026-03-21", "2026-03-22"):
        log = (layout.log_dir("london") / f"backfill-{day}.log").read_text()
        assert "window: " in log and f"..{day} ({WINDOW} days)" in log

    # The same backfill again: every night already done (the same window files, a run
    # through to the Pusher), reported with its run and not run again.
    assert _backfill(config, data, output, "2026-03-20", "2026-03-22") == exit_codes.OK
    out = capsys.readouterr().out
    assert [(m[0], m[1], m[2]) for m in NIGHT.findall(out)] == [
        (day, "already done", run)
        for day, run in zip(("2026-03-20", "2026-03-21", "2026-03-22"), runs, strict=True)
    ]
    assert _runs(layout) == runs

    # 03-23's file is gone and no missing day is allowed: 03-22 is already done, 03-23
    # stops the backfill with exit 2 naming the day, and 03-24 is not run.
    next(data.glob("2026-03-23.*")).unlink()
    assert _backfill(config, data, output, "2026-03-22", "2026-03-24") == exit_codes.BAD_INPUT
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [m[:2] for m in NIGHT.findall(captured.out)] == [("2026-03-22", "already done")]
    assert lines[-1] == "2026-03-23: FAILED (exit 2); backfill stopped at this day"
    assert "2026-03-24" not in captured.out
    assert "2026-03-23" in captured.err  # the run's own one-line reason
    assert _runs(layout) == runs

    # 03-22's file is touched (a new mtime: the listing changed): that night runs again.
    day_file = next(data.glob("2026-03-22.*"))
    os.utime(day_file, (day_file.stat().st_atime, day_file.stat().st_mtime + 60))
    assert _backfill(config, data, output, "2026-03-22", "2026-03-22") == exit_codes.OK
    assert [m[:2] for m in NIGHT.findall(capsys.readouterr().out)] == [("2026-03-22", "done")]
    assert len(_runs(layout)) == len(runs) + 1
