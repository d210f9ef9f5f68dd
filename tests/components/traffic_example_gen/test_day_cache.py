"""The day cache: a nightly run ingests only its new day and equals a full run.

Real executor runs on generated London days (a rejected and a duplicated row in one
day). Each nightly or repeated run (with a day cache) is compared, example by example
as sorted multisets per split, with a full run of the same window that has no cache
(the UTC-day pipeline of ``stages``), and on the run's accounting.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import pytest

from components.traffic_example_gen import (
    accounting,
    day_cache,
    executor,
    in_process,
    properties,
    window,
)
from deploy.datasets.synthetic.cities import get_city
from deploy.datasets.synthetic.generator import generate
from tests.components.traffic_example_gen.helpers import (
    int_properties,
    read_examples,
    read_rejects,
    run_executor,
)
from transforms import features

DAYS = 7
WINDOW = 5
SPLIT = json.dumps({"kind": "time", "eval_days": 2})
# What must match between a cached and a full run (same_second_vehicles_kept is
# counted per local day with a cache, per UTC day without: it may differ).
ACCOUNTING = (
    accounting.ROWS_READ,
    accounting.EXAMPLES_TRAIN,
    accounting.EXAMPLES_EVAL,
    accounting.REJECTED_TOTAL,
    accounting.rejected_key(accounting.DUPLICATE),
    accounting.rejected_key(accounting.UNKNOWN_DIRECTION),
    accounting.UNLABELED_LAST_VEHICLES,
    accounting.UNLABELED_BEFORE_GAP,
)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, list[str]]:
    """Seven generated days; the second has a duplicated row and an unknown direction."""
    root = tmp_path_factory.mktemp("generated")
    generate(get_city("london"), root, days=DAYS, intersections=3, scale=0.1)
    files = sorted(root.glob("*.csv"))
    lines = files[1].read_text().splitlines()
    header = lines[0].split(",")
    bad = lines[5].split(",")
    bad[header.index("direction")] = "UP"
    files[1].write_text("\n".join([*lines, lines[3], ",".join(bad)]) + "\n")
    return root, [f.name[:10] for f in files]


def _data(tmp_path: Path, generated, days: list[str]) -> Path:
    source, _ = generated
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    for day in days:
        shutil.copy(source / f"{day}.csv", data / f"{day}.csv")
    return data


def _run(data: Path, out: Path, as_of: str, cache: Path | None, **params):
    extra = {executor.DAY_CACHE_KEY: str(cache)} if cache else {}
    return run_executor(
        data,
        out,
        window_days=WINDOW,
        as_of=as_of,
        split_config=SPLIT,
        max_reject_fraction=1.0,
        **extra,
        **params,
    )


def _multiset(examples, split: str) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True) for r in read_examples(examples, split))


def _ingested_reused(examples) -> tuple[int, int]:
    props = int_properties(examples)
    return props[properties.DAYS_INGESTED], props[properties.DAYS_REUSED]


def _assert_same_as_full(run, full) -> None:
    (examples, rejects), (full_examples, full_rejects) = run, full
    for split in ("train", "eval"):
        got, want = _multiset(examples, split), _multiset(full_examples, split)
        assert got and got == want, split
    got, want = int_properties(examples), int_properties(full_examples)
    assert {k: got[k] for k in ACCOUNTING} == {k: want[k] for k in ACCOUNTING}
    assert read_rejects(rejects) == read_rejects(full_rejects)


def _days_file(rejects) -> list[dict]:
    return json.loads((Path(rejects.uri) / executor.DAYS_FILE).read_text())


@pytest.mark.parametrize("path", [in_process.IN_PROCESS, in_process.BEAM])
def test_nightly_run_ingests_one_day_and_equals_a_full_run(tmp_path, generated, path, monkeypatch):
    _, days = generated
    data = _data(tmp_path, generated, days)
    cache = tmp_path / "cache"
    if path == in_process.BEAM:  # small days run in process unless Beam is required
        monkeypatch.setattr(in_process, "fits", lambda *_: False)
    first = _run(data, tmp_path / "first", days[4], cache)
    assert _ingested_reused(first[0]) == (5, 0)
    assert first[0].get_string_custom_property(properties.INGEST_PATH) == path
    _assert_same_as_full(first, _run(data, tmp_path / "first_full", days[4], None))

    nightly = _run(data, tmp_path / "nightly", days[5], cache)
    assert _ingested_reused(nightly[0]) == (1, 4)
    assert nightly[0].get_string_custom_property(properties.INGEST_PATH) == path
    _assert_same_as_full(nightly, _run(data, tmp_path / "full", days[5], None))
    # Day 5's last vehicles were unlabeled in the first run; labelled now.
    assert (
        int_properties(first[0])[accounting.UNLABELED_LAST_VEHICLES]
        == int_properties(nightly[0])[accounting.UNLABELED_LAST_VEHICLES]
    )
    # Day 4 (index 3) was eval in the first window and is train now.
    first_eval = {r[features.TIMESTAMP_UTC] for r in read_examples(first[0], "eval")}
    nightly_train = {r[features.TIMESTAMP_UTC] for r in read_examples(nightly[0], "train")}
    assert first_eval & nightly_train

    per_day = _days_file(nightly[1])
    assert [d["source"] for d in per_day] == ["reused"] * 4 + ["ingested"]
    for day in per_day:  # recorded for reused days too, and it holds
        assert day[accounting.ROWS_READ] == (
            day[day_cache.BODY_EXAMPLES]
            + day[day_cache.TAIL_VEHICLES]
            + day[accounting.REJECTED_TOTAL]
        )
    assert per_day[0][accounting.REJECTED_TOTAL] == 2  # day 2: a duplicate and a bad row


def test_a_rewritten_day_is_ingested_again(tmp_path, generated):
    _, days = generated
    data = _data(tmp_path, generated, days[:5])
    cache = tmp_path / "cache"
    _run(data, tmp_path / "first", days[4], cache)
    target = data / f"{days[2]}.csv"
    lines = target.read_text().splitlines()
    target.write_text("\n".join(lines[:-10]) + "\n")  # same name, new content

    again = _run(data, tmp_path / "again", days[4], cache)
    assert _ingested_reused(again[0]) == (1, 4)
    _assert_same_as_full(again, _run(data, tmp_path / "full", days[4], None))
    per_day = {d["day"]: d["source"] for d in _days_file(again[1])}
    assert per_day[days[2]] == "ingested"
    unchanged = _run(data, tmp_path / "unchanged", days[4], cache)
    assert _ingested_reused(unchanged[0]) == (0, 5)


def test_a_late_day_is_ingested_when_it_arrives(tmp_path, generated):
    _, days = generated
    present = [d for d in days[:5] if d != days[2]]
    data = _data(tmp_path, generated, present)
    cache = tmp_path / "cache"
    gap = _run(data, tmp_path / "gap", days[4], cache, max_missing_days=1)
    assert _ingested_reused(gap[0]) == (4, 0)
    assert int_properties(gap[0])[accounting.UNLABELED_BEFORE_GAP] > 0

    _data(tmp_path, generated, [days[2]])  # the late file arrives
    late = _run(data, tmp_path / "late", days[4], cache, max_missing_days=1)
    assert _ingested_reused(late[0]) == (1, 4)
    assert int_properties(late[0])[accounting.UNLABELED_BEFORE_GAP] == 0
    _assert_same_as_full(late, _run(data, tmp_path / "full", days[4], None))


def test_a_half_written_entry_is_not_reused(tmp_path, generated):
    _, days = generated
    data = _data(tmp_path, generated, days[:6])
    cache = tmp_path / "cache"
    _run(data, tmp_path / "first", days[4], cache)
    entries = {d: next((cache / d).glob(f"*/{day_cache.ENTRY_FILE}")) for d in days[:5]}
    entries[days[1]].unlink()  # the run died before committing the day
    torn = entries[days[2]]
    torn.write_text(torn.read_text()[:40])  # a torn manifest
    listed = json.loads(entries[days[3]].read_text())
    (entries[days[3]].parent / listed["attempt"] / listed["examples"][0]).unlink()

    nightly = _run(data, tmp_path / "nightly", days[5], cache)
    assert _ingested_reused(nightly[0]) == (4, 1)
    _assert_same_as_full(nightly, _run(data, tmp_path / "full", days[5], None))
    again = _run(data, tmp_path / "again", days[5], cache)
    assert _ingested_reused(again[0]) == (0, 5)
    _assert_same_as_full(again, _run(data, tmp_path / "full_again", days[5], None))


def test_approach_shards_give_the_same_entries(tmp_path, generated, monkeypatch):
    from components.traffic_example_gen import stages

    _, days = generated
    data = _data(tmp_path, generated, days[:6])
    cache = tmp_path / "cache"
    monkeypatch.setattr(executor, "DAY_GROUP_BYTES", 4096)  # several shards per day
    monkeypatch.setattr(stages, "STAGE_ROWS", 16)
    monkeypatch.setattr(stages, "TAIL_SHARDS", 3)
    _run(data, tmp_path / "first", days[4], cache)
    assert len(json.loads(next(cache.glob(f"*/*/{day_cache.ENTRY_FILE}")).read_text())["tails"]) > 1
    nightly = _run(data, tmp_path / "nightly", days[5], cache)
    assert _ingested_reused(nightly[0]) == (1, 4)
    monkeypatch.undo()
    _assert_same_as_full(nightly, _run(data, tmp_path / "full", days[5], None))


def test_days_that_left_the_window_are_pruned_after_a_successful_run(tmp_path, generated):
    """``cache_keep_days`` 1: a run on days 3-7 deletes the entry of day 1 (and an old
    day half-deleted by an interrupted prune), keeps day 2's and the statistics'
    accumulators, and says so; a run as of an older day ingests day 1 again."""
    _, days = generated
    data = _data(tmp_path, generated, days)
    cache = tmp_path / "cache"
    first = _run(data, tmp_path / "first", days[4], cache, cache_keep_days=1)  # days 1-5
    assert int_properties(first[0])[properties.CACHE_DAYS_PRUNED] == 0
    leftover = cache / "2026-01-01" / "key" / "attempt-x" / "examples-00000.gz"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"no entry.json: a prune was interrupted")
    accumulators = cache / "statistics" / "a.pkl"  # not a day: never pruned
    accumulators.parent.mkdir()
    accumulators.write_bytes(b"kept")

    nightly = _run(data, tmp_path / "nightly", days[6], cache, cache_keep_days=1)  # days 3-7
    assert _ingested_reused(nightly[0]) == (2, 3)
    for artifact in nightly:
        assert int_properties(artifact)[properties.CACHE_DAYS_PRUNED] == 2
        assert artifact.get_string_custom_property(properties.CACHE_PRUNED_BEFORE) == days[1]
    assert json.loads((Path(nightly[1].uri) / executor.PRUNED_FILE).read_text()) == {
        "before": days[1],
        "days": ["2026-01-01", days[0]],
    }
    assert sorted(p.name for p in cache.iterdir()) == sorted([*days[1:], "statistics"])
    assert accumulators.read_bytes() == b"kept"
    # The examples of the run are complete: the pruned day was not in its window.
    _assert_same_as_full(nightly, _run(data, tmp_path / "full", days[6], None))

    older = _run(data, tmp_path / "older", days[4], cache, cache_keep_days=1)  # days 1-5
    assert _ingested_reused(older[0]) == (1, 4)
    assert {d["day"]: d["source"] for d in _days_file(older[1])}[days[0]] == "ingested"


def test_cache_keep_days_defaults_to_a_week(tmp_path, generated):
    """Without ``cache_keep_days``: entries up to 7 days before the window stay."""
    _, days = generated
    data = _data(tmp_path, generated, days)
    cache = tmp_path / "cache"
    _run(data, tmp_path / "first", days[4], cache)
    nightly = _run(data, tmp_path / "nightly", days[6], cache)
    assert int_properties(nightly[0])[properties.CACHE_DAYS_PRUNED] == 0
    first_day = datetime.date.fromisoformat(days[2])  # the window's first day
    keep = datetime.timedelta(days=window.DEFAULT_CACHE_KEEP_DAYS)
    assert nightly[0].get_string_custom_property(properties.CACHE_PRUNED_BEFORE) == (
        (first_day - keep).isoformat()
    )
