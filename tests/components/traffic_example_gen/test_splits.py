"""Split rules: time (last local days are eval) and hash."""

from __future__ import annotations

import datetime
import json

import numpy as np
import pytest

from components.traffic_example_gen.splits import HASH, TIME, make_split_rule

DAYS = [datetime.date(2026, 3, 20) + datetime.timedelta(days=i) for i in range(10)]


def test_time_split_by_days_and_fraction():
    rule = make_split_rule(json.dumps({"kind": "time", "eval_days": 3}), DAYS)
    assert (rule.kind, rule.eval_from_yyyymmdd) == (TIME, 20260327)
    rule = make_split_rule(json.dumps({"kind": "time", "eval_fraction": 0.2}), DAYS)
    assert rule.eval_from_yyyymmdd == 20260328
    mask = rule.eval_mask(None, None, None, np.array([20260327, 20260328, 20260329]))
    assert mask.tolist() == [False, True, True]
    # at least one day on each side, however small the fraction
    assert make_split_rule('{"eval_fraction": 0.01}', DAYS).eval_from_yyyymmdd == 20260329


def test_no_split_config_is_the_default_last_week():
    assert make_split_rule("", DAYS).eval_from_yyyymmdd == 20260323  # 7 of 10 days
    with pytest.raises(ValueError, match=r"eval_days=7 must be in \[1, 6\] for 7 days"):
        make_split_rule("", DAYS[:7])


def test_hash_split_is_deterministic_and_near_the_fraction():
    rule = make_split_rule(json.dumps({"kind": HASH, "eval_fraction": 0.2}), DAYS)
    n = 20_000
    intersection = np.array([f"X{i % 7}" for i in range(n)], dtype=object)
    direction = np.array(["NESW"[i % 4] for i in range(n)], dtype=object)
    ts = np.arange(n, dtype=np.int64) * 1_000_003
    mask = rule.eval_mask(intersection, direction, ts, None)
    assert 0.18 < mask.mean() < 0.22
    again = rule.eval_mask(intersection[::-1].copy(), direction[::-1].copy(), ts[::-1].copy(), None)
    assert (again[::-1] == mask).all()  # depends on the row, not its position


@pytest.mark.parametrize(
    "config, message",
    [
        ('{"kind": "time", "eval_days": 10}', "eval_days=10 must be in"),
        ('{"kind": "time"}', "needs eval_days or eval_fraction"),
        ('{"kind": "hash", "eval_days": 2, "eval_fraction": 0.2}', "needs only eval_fraction"),
        ('{"kind": "random"}', "must be 'time' or 'hash'"),
        ('{"kind": "time", "eval_fraction": 1.5}', r"must be in \(0, 1\)"),
        ('{"eval_weeks": 1}', "unknown keys"),
        ("not json", "not valid JSON"),
    ],
)
def test_bad_configs(config, message):
    with pytest.raises(ValueError, match=message):
        make_split_rule(config, DAYS)


def test_time_split_needs_two_days():
    with pytest.raises(ValueError, match="at least 2 days"):
        make_split_rule('{"kind": "time", "eval_days": 1}', DAYS[:1])
