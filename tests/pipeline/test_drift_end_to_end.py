"""End to end: a broken detector trips the drift gate (docs/drift.md).

London, 14 generated days, a 7-day window. The first run (days 1-7) has no baseline
and is blessed. From day 8 on, one approach (LDN-0001 northbound) loses every second
vehicle, as a detector that misses half its vehicles would. The second run (days 8-14)
under ``drift.mode: block`` exits 3 naming the drifted features, is not blessed and
pushes nothing; the same window under ``warn`` records the same drift and goes on.
Both compare with the first run's statistics (a blocked run is never a baseline), and
``history`` shows the drift column. An unchanged re-run of the first window stays fully cached.
"""

from __future__ import annotations

import pytest

from components.drift_gate import checks
from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.mlmd import metadata
from deploy.runners.local.layout import LocalLayout
from pipeline import names as wiring
from tests import e2e_support
from transforms import features

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
BROKEN_FROM = "2026-03-23"  # day 8
RESOLVERS = {wiring.BASELINE_RESOLVER, wiring.DRIFT_BASELINE_RESOLVER}  # they always resolve


def _drift_gate(layout: LocalLayout) -> tuple[dict, object]:
    """The newest run's DriftGate drift_statistics properties and its Evaluator blessing."""
    store = metadata.open_store(layout.metadata_path)
    run = metadata.run_ids(store, LONDON)[-1]
    nodes = {e.node_id: e for e in metadata.run_executions(store, LONDON, run)}
    [stats] = metadata.outputs_of(store, nodes[wiring.DRIFT_GATE].execution.id, "drift_statistics")
    [blessing] = metadata.outputs_of(store, nodes[wiring.EVALUATOR].execution.id, "blessing")
    return metadata.custom_properties(stats) | {"uri": stats.uri}, blessing


def test_a_halved_approach_is_blocked_with_block_and_recorded_with_warn(tmp_path, capsys):
    data = e2e_support.generate("london", tmp_path / "data", days=14)
    assert e2e_support.halve_approach(data, "LDN-0001", "N", BROKEN_FROM) > 0
    output = tmp_path / "output"
    layout = LocalLayout(output)

    def config(mode: str):
        return e2e_support.write_config(
            tmp_path / f"london-{mode}.yaml",
            "london",
            "Europe/London",
            data={"split": {"kind": "time", "eval_days": 2}, "window_days": 7},
            # whole windows: this test is about a window compared with an older one
            drift={"mode": mode, "recent_days": 0},
            # A gate the first run passes whatever the training noise: it must be the
            # baseline (the drift gate is what this test is about).
            evaluation={"thresholds": {"mean_absolute_error": {"upper_bound": 100000.0}}},
        )

    assert e2e_support.run("london", config("block"), data, output, "--as-of", "2026-03-22") == 0
    out = capsys.readouterr().out
    assert "drift (block): no baseline" in out
    first, first_blessing = _drift_gate(layout)
    assert first[checks.RESULT] == checks.NO_BASELINE
    assert first_blessing.custom_properties["blessed"].int_value == 1
    pushed = sorted(p.name for p in layout.serving_base("london").iterdir())
    assert len(pushed) == 1

    # An unchanged re-run stays cached: its own blessing is not its drift baseline.
    assert e2e_support.run("london", config("block"), data, output, "--as-of", "2026-03-22") == 0
    capsys.readouterr()
    store = metadata.open_store(layout.metadata_path)
    rerun = metadata.run_executions(store, LONDON, metadata.run_ids(store, LONDON)[-1])
    states = {e.node_id: e.state for e in rerun if e.node_id not in RESOLVERS}
    assert set(states.values()) == {"CACHED"}, states
    assert wiring.DRIFT_GATE in states

    # block: exit 3, the drifted features named, not blessed, nothing pushed.
    code = e2e_support.run("london", config("block"), data, output, "--as-of", "2026-03-29")
    captured = capsys.readouterr()
    assert code == exit_codes.NOT_BLESSED
    blocked, blessing = _drift_gate(layout)
    assert blocked[checks.RESULT] == checks.DRIFT and blocked[checks.BLOCKED] == 1
    assert blocked[checks.BASELINE_URI] == first["uri"]
    drifted = blocked[checks.DRIFTED_FEATURES].split(",")
    assert {features.DIRECTION, checks.APPROACH} <= set(drifted)
    assert features.VEHICLE_TYPE not in drifted
    assert f"drift (block): DRIFT in {', '.join(drifted)}:" in captured.out
    assert f"the drift gate blocks this data (drift in {', '.join(drifted)})" in captured.err
    assert blessing.custom_properties["blessed"].int_value == 0
    assert sorted(p.name for p in layout.serving_base("london").iterdir()) == pushed

    # warn: the same drift recorded against the same (first) run, the blessing is the
    # Evaluator's own.
    code = e2e_support.run("london", config("warn"), data, output, "--as-of", "2026-03-29")
    out = capsys.readouterr().out
    assert code in (exit_codes.OK, exit_codes.NOT_BLESSED)
    warned, blessing = _drift_gate(layout)
    assert warned[checks.RESULT] == checks.DRIFT and warned[checks.BLOCKED] == 0
    assert warned[checks.BASELINE_URI] == first["uri"]
    assert warned[checks.MEASUREMENTS] == blocked[checks.MEASUREMENTS]
    assert f"drift (warn): DRIFT in {', '.join(drifted)}:" in out
    assert "the drift gate blocks" not in out
    assert blessing.custom_properties[checks.BLOCKED].int_value == 0
    assert (
        blessing.custom_properties[checks.BLESSING_STATISTICS_URI].string_value == (warned["uri"])
    )

    history = ["history", "--city", "london", "--config", str(config("warn"))]
    assert cli_main([*history, "--output", str(output)]) == 0
    cells = [line.split(" | ")[2] for line in capsys.readouterr().out.splitlines()]
    assert cells == [
        "drift no-baseline",
        "drift no-baseline",
        f"drift DRIFT({','.join(drifted)})",
        f"drift DRIFT({','.join(drifted)})",
    ]
