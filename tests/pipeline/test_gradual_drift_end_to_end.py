"""End to end: a break that enters a rolling window one day a night trips the drift gate.

London, 3 intersections (``--scale 4``), a 7-day window moving one day a night. From
2026-03-24 on, approach LDN-0001 northbound loses every second vehicle. Each night's
baseline is the last blessed night, whose window overlaps tonight's by 6 days: the
whole-window comparison sees a sixth of the break a night. The recent-days check
(``drift.recent_days: 2``: tonight's newest 2 days against the baseline's days before
them, ``components/drift_gate/recent.py``) sees all of it:

- ``block``: nights 03-23 .. 03-25 with ``traffic-pipeline backfill``. The break is
  caught by the recent-days check on its first or second night (here the 2-day
  eval split of the whole-window check sees it too: it is as short as the recent
  days), and every night from then on is blocked
  (exit 3, nothing pushed): a blocked night is never blessed, so the baseline stays the
  last night before the break.
- ``warn``: night 03-25 again: the drift is recorded (against 03-23, the last
  blessed night) and the model blessed.
- The same nights of the unbroken data: never flagged, every recent comparison made.

At this size (docs/drift.md) 2 days are a small sample: the generator's per-day
intersection volumes and its weekend vehicle mix move the ``intersection_id`` and
``vehicle_type`` shares of 2 days by more than their defaults, and the weekday mix of
a 2-day eval split moves the headway label's histogram; the test loosens those (and
``approach_hour``), and gives ``approach`` 0.03 (unbroken 2-day noise up to 0.0204 at
scale 2); ``direction`` keeps its default 0.02.
"""

from __future__ import annotations

import pytest

from components.drift_gate import checks, executor, recent
from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.mlmd import metadata
from deploy.runners.local.layout import LocalLayout
from pipeline import names as wiring
from tests import e2e_support
from transforms import features

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
BROKEN_FROM = "2026-03-24"
NIGHTS = ("2026-03-23", "2026-03-24", "2026-03-25")  # the first: the last before the break
TRAIN_STEPS = "20"


def _config(tmp_path, mode: str):
    return e2e_support.write_config(
        tmp_path / f"london-{mode}.yaml",
        "london",
        "Europe/London",
        data={"split": {"kind": "time", "eval_days": 2}, "window_days": 7},
        drift={
            "mode": mode,
            "recent_days": 2,
            "thresholds": {
                "intersection_id": 0.1,
                "vehicle_type": 0.2,
                "approach_hour": 0.2,
                "seconds_to_next_vehicle": 1.0,
                "approach": 0.03,
            },
        },
        # A gate any model passes: the drift gate is what this test is about.
        evaluation={"thresholds": {"mean_absolute_error": {"upper_bound": 100000.0}}},
    )


def _backfill(config, data, output) -> int:
    args = ["backfill", "--city", "london", "--config", str(config), "--data", str(data)]
    args += ["--output", str(output), "--from", NIGHTS[0], "--to", NIGHTS[-1]]
    return cli_main([*args, "--workers", "1", "--train-steps", TRAIN_STEPS])


def _nights(layout: LocalLayout) -> list[dict]:
    """Per run, oldest first: its window's last day, the DriftGate's result properties,
    its drift statistics' URI and whether its model was blessed."""
    store = metadata.open_store(layout.metadata_path)
    found = []
    for run in metadata.run_ids(store, LONDON):
        nodes = {e.node_id: e for e in metadata.run_executions(store, LONDON, run)}
        [examples] = metadata.outputs_of(store, nodes[wiring.EXAMPLE_GEN].execution.id, "examples")
        gate = nodes[wiring.DRIFT_GATE].execution.id
        [stats] = metadata.outputs_of(store, gate, "drift_statistics")
        [blessing] = metadata.outputs_of(store, nodes[wiring.EVALUATOR].execution.id, "blessing")
        props = metadata.custom_properties(stats)
        found.append(
            {
                "night": metadata.custom_properties(examples)["window_last"],
                "result": props[checks.RESULT],
                "blocked": props[checks.BLOCKED],
                "baseline": props[checks.BASELINE_URI],
                "uri": stats.uri,
                "recent": checks.RecentParts.from_json(props[checks.RECENT_PARTS] or ""),
                "measurements": checks.from_json(props[checks.MEASUREMENTS]),
                "blessed": blessing.custom_properties["blessed"].int_value,
                "files": (props[executor.COUNTED_FILES], props[executor.REUSED_FILES]),
            }
        )
    return found


def _recent_drift(night: dict) -> set[str]:
    """The features the recent-days check found drifted (whatever the window's did)."""
    return {m.feature for m in night["measurements"] if m.drifted and m.split == recent.RECENT}


def _report(label: str, nights: list[dict], capsys) -> None:
    """The recent check's direction and approach values per night (docs/drift.md)."""
    for n in nights:
        values = {
            (m.split, m.feature): m.value
            for m in n["measurements"]
            if m.feature in (features.DIRECTION, checks.APPROACH)
        }
        cells = " ".join(f"{s}:{f}={v:.4f}" for (s, f), v in sorted(values.items()))
        with capsys.disabled():
            print(f"{label} {n['night']} {n['result']} blessed={n['blessed']} {cells}")


def test_a_break_entering_the_window_one_day_a_night_is_blocked_and_recorded(tmp_path, capsys):
    clean = e2e_support.generate("london", tmp_path / "clean", days=10, scale="4")
    broken = e2e_support.generate("london", tmp_path / "broken", days=10, scale="4")
    assert e2e_support.halve_approach(broken, "LDN-0001", "N", BROKEN_FROM) > 0

    # Unbroken: nothing flagged; every night after the first compared its recent days.
    layout = LocalLayout(tmp_path / "clean-out")
    assert _backfill(_config(tmp_path, "block"), clean, layout.output_dir) == exit_codes.OK
    nights = _nights(layout)
    _report("unbroken", nights, capsys)
    assert [n["night"] for n in nights] == list(NIGHTS)
    assert [n["result"] for n in nights] == [checks.NO_BASELINE] + [checks.OK] * 2
    assert all(n["recent"].compared for n in nights[1:])
    assert all(n["blessed"] for n in nights)
    # The drift gate reads only the files its baseline did not count: of a night's 9
    # (7 days' files and each split's day-boundary file, rewritten every run), the new
    # day's and the 2 boundary files; the other 6 days' it reuses.
    assert [n["files"] for n in nights] == [(9, 0), (3, 6), (3, 6)]

    # block: caught on the break's first or second night; from then on every night is
    # blocked, against the last night before the drift (its baseline stays).
    layout = LocalLayout(tmp_path / "broken-out")
    assert _backfill(_config(tmp_path, "block"), broken, layout.output_dir) == exit_codes.OK
    nights = _nights(layout)
    _report("block", nights, capsys)
    assert [n["night"] for n in nights] == list(NIGHTS)
    assert nights[0]["result"] == checks.NO_BASELINE
    first = next(i for i, n in enumerate(nights) if n["result"] == checks.DRIFT)
    assert NIGHTS[first] in ("2026-03-24", "2026-03-25")
    for night in nights[first:]:
        assert (night["result"], night["blocked"], night["blessed"]) == (checks.DRIFT, 1, 0)
        assert night["baseline"] == nights[first - 1]["uri"]
        assert _recent_drift(night) & {features.DIRECTION, checks.APPROACH}
    out = capsys.readouterr().out
    assert "2026-03-25: done" in out and "drift DRIFT(" in out

    # warn: the last night again, recorded against the last blessed night, and blessed.
    config = _config(tmp_path, "warn")
    code = e2e_support.run("london", config, broken, layout.output_dir, "--as-of", NIGHTS[-1])
    assert code == exit_codes.OK
    [warned] = _nights(layout)[-1:]
    _report("warn", [warned], capsys)
    assert warned["night"] == NIGHTS[-1] and warned["baseline"] == nights[first - 1]["uri"]
    assert (warned["result"], warned["blocked"], warned["blessed"]) == (checks.DRIFT, 0, 1)
    assert _recent_drift(warned) & {features.DIRECTION, checks.APPROACH}
    assert "drift (warn): DRIFT in" in capsys.readouterr().out
