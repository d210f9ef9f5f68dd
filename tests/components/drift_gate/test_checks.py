"""The drift gate's reporting: lines, history cells, JSON round trip, config keys."""

from __future__ import annotations

import math

import pytest

from components.drift_gate import checks
from pipeline.config import ConfigError, load_config


def _m(feature, value, threshold=0.02, split="eval"):
    return checks.Measurement(split, feature, checks.CHECKS[feature][0], value, threshold)


def test_lines_name_the_drifted_features_with_values_and_thresholds():
    found = [
        _m("direction", 0.041),
        _m("direction", 0.03, split="train"),
        _m("approach", 0.06),
        _m("vehicle_type", 0.004),
    ]
    line = checks.summary_line(checks.DRIFT, "block", found)
    assert line.startswith("drift (block): DRIFT in direction, approach: ")
    assert "eval: direction L-inf 0.041 > 0.02" in line
    assert "vehicle_type" not in line and "train" not in line  # each feature's worst split
    assert checks.blocked_reason(found) == (
        "the drift gate blocks this data (drift in direction, approach)"
    )
    assert checks.history_cell(checks.DRIFT, found) == "drift DRIFT(direction,approach)"
    ok = checks.summary_line(checks.OK, "warn", [_m("direction", 0.01), _m("approach", 0.019)])
    assert ok == "drift (warn): OK (closest: eval: approach L-inf 0.019 <= 0.02)"
    assert checks.history_cell("", []) == "drift -"
    assert "no baseline" in checks.summary_line(checks.NO_BASELINE, "warn", [])
    assert "drift statistics are gone" in checks.summary_line(checks.BASELINE_MISSING, "warn", [])
    assert checks.history_cell(checks.BASELINE_MISSING, []) == "drift baseline-missing"


def test_measurements_round_trip_through_json_including_infinity():
    found = [_m("direction", math.inf), _m("approach_hour", 0.5, 0.1, "train")]
    assert checks.from_json(checks.to_json(found)) == found


def _config(tmp_path, drift: str, data: str = "{}"):
    path = tmp_path / "london.yaml"
    path.write_text(f"city: london\ntimezone: Europe/London\ndrift: {drift}\ndata: {data}\n")
    return load_config("london", path)


def test_config_defaults_live_in_checks_and_overrides_apply(tmp_path):
    assert load_config("london").drift.mode == checks.DEFAULT_MODE
    config = _config(tmp_path, "{mode: block, thresholds: {direction: 0.05}}")
    assert config.drift.mode == "block"
    assert config.drift.all_thresholds() == {**checks.DEFAULT_THRESHOLDS, "direction": 0.05}
    assert _config(tmp_path, "{mode: off}").drift.mode == "off"  # YAML 1.1 reads off as false
    assert config.drift.recent_days == checks.DEFAULT_RECENT_DAYS


def test_recent_days_need_a_window_of_twice_as_many_days(tmp_path):
    window = "{window_days: 13, split: {eval_days: 2}}"
    with pytest.raises(ConfigError, match=r"drift.recent_days \(7\) needs data.window_days >= 14"):
        _config(tmp_path, "{mode: warn}", window)
    assert _config(tmp_path, "{mode: warn, recent_days: 6}", window).drift.recent_days == 6
    assert _config(tmp_path, "{mode: warn, recent_days: 0}", window).drift.recent_days == 0
    assert _config(tmp_path, "{mode: off}", window).drift.mode == "off"  # no gate, no check


@pytest.mark.parametrize(
    ("drift", "message"),
    [
        ("{mode: stop}", "drift.mode: 'stop' not in"),
        ("{thresholds: {directon: 0.1}}", "unknown drift feature(s) directon"),
        ("{thresholds: {direction: -1}}", "direction must be >= 0"),
        ("{modes: warn}", "unknown key 'drift.modes'"),
        ("{recent_days: -1}", "drift.recent_days must be >= 0"),
    ],
)
def test_bad_drift_config_is_named(tmp_path, drift, message):
    with pytest.raises(ConfigError, match=r"london\.yaml") as raised:
        _config(tmp_path, drift)
    assert message in str(raised.value)
