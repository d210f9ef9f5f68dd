"""``lineage`` splits ExampleGen's input span into the train and the eval days."""

from __future__ import annotations

import json

from deploy.mlmd.spans import split_spans


def _props(split: dict, first="2026-03-16", last="2026-03-24", files=9) -> dict:
    return {
        "first_day": first,
        "last_day": last,
        "input_files": files,
        "split_config": json.dumps(split),
        "examples_train": 700,
        "examples_eval": 200,
    }


def test_time_split_with_eval_days_puts_the_last_days_in_eval():
    train, evaluation = split_spans(_props({"kind": "time", "eval_days": 2}))
    assert train == "2026-03-16 .. 2026-03-22 (7 days) (700 examples)"
    assert evaluation == "2026-03-23 .. 2026-03-24 (2 days) (200 examples)"


def test_time_split_with_a_fraction_rounds_as_example_gen():
    # 0.2 of 9 days rounds to 2 eval days; 0.01 still keeps one eval day.
    assert split_spans(_props({"kind": "time", "eval_fraction": 0.2}))[1].startswith(
        "2026-03-23 .. 2026-03-24 (2 days)"
    )
    assert split_spans(_props({"kind": "time", "eval_fraction": 0.01}))[1].startswith(
        "2026-03-24 .. 2026-03-24 (1 days)"
    )


def test_days_with_gaps_give_counts_not_invented_dates():
    train, evaluation = split_spans(_props({"kind": "time", "eval_days": 2}, files=6))
    assert train.startswith("2026-03-16 .. the first 4 of 6 input days")
    assert evaluation.startswith("the last 2 input days .. 2026-03-24")


def test_hash_split_says_both_splits_span_every_day():
    train, evaluation = split_spans(_props({"kind": "hash", "eval_fraction": 0.2}))
    assert train == evaluation
    assert "2026-03-16 .. 2026-03-24, rows hashed (700 train / 200 eval" in train
