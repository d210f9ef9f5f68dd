"""End to end: two rolling windows on generated data, recorded in MLMD and the summary.

One London data root; the first run's window ends at ``--as-of``, the second (a day
removed, one missing day allowed) at the newest complete day. Checked in ML Metadata:
the window, the missing day, the ingested count and each file's size and SHA-256;
checked on the terminal: the summary's window line. An unchanged re-run is cached, and
a window with more missing days than allowed stops before running with exit 2.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil

import pytest

from components.traffic_example_gen import properties
from deploy import exit_codes
from deploy.mlmd import metadata
from deploy.runners.local.layout import LocalLayout
from pipeline import names as wiring
from tests import e2e_support

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
WINDOW = 5
LINE = re.compile(
    r"^  window: (\d{4}-\d\d-\d\d)\.\.(\d{4}-\d\d-\d\d) \((\d+) days\), "
    r"ingested (\d+), reused (\d+)$",
    re.M,
)


def _examples_props(layout: LocalLayout, run_id: str) -> tuple[dict, str]:
    store = metadata.open_store(layout.metadata_path)
    node = next(
        e for e in metadata.run_executions(store, LONDON, run_id) if e.node_id == wiring.EXAMPLE_GEN
    )
    return metadata.custom_properties(
        metadata.outputs_of(store, node.execution.id, "examples")[0]
    ), node.state


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_two_windows_are_resolved_at_run_time_and_recorded(tmp_path, capsys):
    data = e2e_support.generate("london", tmp_path / "data")  # 2026-03-16 .. 2026-03-24
    config = e2e_support.write_config(
        tmp_path / "london.yaml",
        "london",
        "Europe/London",
        data={
            "split": {"kind": "time", "eval_days": 2},
            "window_days": WINDOW,
            "max_missing_days": 1,
        },
    )
    output = tmp_path / "output"
    layout = LocalLayout(output)

    code = e2e_support.run("london", config, data, output, "--as-of", "2026-03-22")
    assert code in (exit_codes.OK, exit_codes.NOT_BLESSED)
    out = capsys.readouterr().out
    assert LINE.findall(out) == [("2026-03-18", "2026-03-22", "5", "5", "0")]
    first_run = metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON)[-1]
    props, _ = _examples_props(layout, first_run)
    assert props[properties.WINDOW_FIRST] == "2026-03-18"
    assert props[properties.WINDOW_LAST] == "2026-03-22"
    assert props[properties.AS_OF] == "2026-03-22"
    assert (props[properties.DAYS_INGESTED], props[properties.DAYS_REUSED]) == (5, 0)
    assert json.loads(props[properties.MISSING_DAYS]) == []
    prints = json.loads(props[properties.INPUT_FINGERPRINTS])
    assert sorted(prints) == [f"2026-03-{d}" for d in range(18, 23)]
    for day, fp in prints.items():
        path = data / fp["file"]
        assert fp["file"].startswith(day)
        assert (fp["size"], fp["sha256"]) == (path.stat().st_size, _sha256(path))
    assert (props[properties.FIRST_DAY], props[properties.LAST_DAY]) == (
        "2026-03-18",
        "2026-03-22",
    )

    # Second window: the newest complete day (03-24), with 03-23 gone (1 missing allowed).
    moved = tmp_path / "late"
    moved.mkdir()
    late = next(data.glob("2026-03-23.*"))
    shutil.move(late, moved / late.name)
    code = e2e_support.run("london", config, data, output)
    assert code in (exit_codes.OK, exit_codes.NOT_BLESSED)
    out = capsys.readouterr().out
    # 03-20..03-22 come from the day cache; only 03-24 is parsed.
    assert LINE.findall(out) == [("2026-03-20", "2026-03-24", "5", "1", "3")]
    assert "window days missing (1): 2026-03-23" in out
    second_run = metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON)[-1]
    props, state = _examples_props(layout, second_run)
    assert state == "COMPLETE"
    assert json.loads(props[properties.MISSING_DAYS]) == ["2026-03-23"]
    assert props[properties.AS_OF] == ""
    assert sorted(json.loads(props[properties.INPUT_FINGERPRINTS])) == [
        "2026-03-20",
        "2026-03-21",
        "2026-03-22",
        "2026-03-24",
    ]

    # Unchanged: ExampleGen is cached (its cache key is the window's file listing).
    e2e_support.run("london", config, data, output)
    capsys.readouterr()
    third_run = metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON)[-1]
    assert _examples_props(layout, third_run)[1] == "CACHED"

    # The late day arrives: a new listing, ExampleGen runs again and parses only it.
    shutil.move(moved / late.name, data / late.name)
    e2e_support.run("london", config, data, output)
    out = capsys.readouterr().out
    assert LINE.findall(out) == [("2026-03-20", "2026-03-24", "5", "1", "4")]

    # Two missing days with one allowed: exit 2 naming them, before anything runs.
    for name in ("2026-03-21", "2026-03-22"):
        next(data.glob(f"{name}.*")).unlink()
    runs_before = metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON)
    code = e2e_support.run("london", config, data, output)
    assert code == exit_codes.BAD_INPUT
    err = capsys.readouterr().err
    assert "2 day(s) missing (2026-03-21, 2026-03-22)" in err
    assert "data.max_missing_days=1" in err
    assert metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON) == runs_before

    # history: one line per run, oldest first, with its window, drift result (none: no
    # drift gate), gate metrics and verdict.
    from deploy.cli import main as cli_main

    runs = metadata.run_ids(metadata.open_store(layout.metadata_path), LONDON)
    assert (
        cli_main(["history", "--city", "london", "--config", str(config), "--output", str(output)])
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" | ")[0] for line in lines] == [f"run {r}" for r in runs]
    windows = [line.split(" | ")[1] for line in lines]
    assert windows == [
        "window: 2026-03-18..2026-03-22 (5 days), ingested 5, reused 0",
        "window: 2026-03-20..2026-03-24 (5 days), ingested 1, reused 3",
        "window: 2026-03-20..2026-03-24 (5 days), ingested 1, reused 3",
        "window: 2026-03-20..2026-03-24 (5 days), ingested 1, reused 4",
    ]
    for line in lines:
        drift, gate, verdict, pushed = line.split(" | ")[2:]
        assert drift == "drift -"
        values = dict(part.split("=") for part in gate.split(" "))
        assert set(values) == {"sparse_categorical_crossentropy", "mean_absolute_error"}
        assert all(float(v) > 0 for v in values.values()), gate
        assert verdict in ("BLESSED", "NOT blessed")
        assert (
            pushed == "pushed: -"
            if verdict != "BLESSED"
            else re.fullmatch(r"pushed: \d+( \(already the latest\))?", pushed)
        )
