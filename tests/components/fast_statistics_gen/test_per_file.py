"""FastStatisticsGen with an accumulator cache, on real day-cache Examples.

Two real TrafficExampleGen runs with a day cache (a window, then the next night's);
statistics of the nightly Examples that take the day files' TFDV accumulators back are
compared, every statistic of every feature, with a full recomputation of the same
Examples (the in-memory path, itself checked against the stock executor in
test_executor.py), within TFDV's documented sketch error (``parity.SketchTolerance``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.types import standard_artifacts

from components.fast_statistics_gen import executor as fast_executor
from components.fast_statistics_gen import reading
from components.traffic_example_gen import day_cache, executor
from deploy.datasets.synthetic.cities import get_city
from deploy.datasets.synthetic.generator import generate
from tests.components.fast_statistics_gen import parity
from tests.components.traffic_example_gen.helpers import run_executor

SPLITS = ("train", "eval")
SPLIT = json.dumps({"kind": "time", "eval_days": 2})


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("per_file")
    generate(get_city("london"), root / "data", days=6, intersections=3, scale=0.3)
    days = sorted(p.name[:10] for p in (root / "data").glob("*.csv"))
    out = {}
    for name, as_of in (("first", days[4]), ("nightly", days[5])):
        out[name], _ = run_executor(
            root / "data",
            root / name,
            window_days=5,
            as_of=as_of,
            split_config=SPLIT,
            **{executor.DAY_CACHE_KEY: str(root / "cache")},
        )
    return out


def _statistics(examples, out: Path, **properties):
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(out)
    context = fast_executor.Executor.Context(
        beam_pipeline_args=["--runner=DirectRunner"], tmp_dir=str(out / ".tmp"), unique_id="1"
    )
    fast_executor.Executor(context).Do(
        {"examples": [examples]},
        {"statistics": [statistics]},
        {"exclude_splits": json.dumps([]), **properties},
    )
    return statistics


def _files(examples) -> dict[str, list[str]]:
    return {s: [os.path.basename(f) for f in reading.split_files(examples, s)] for s in SPLITS}


def _values(examples, split: str) -> dict[str, list]:
    batch = reading.read_record_batch(reading.split_files(examples, split))
    return {
        name: batch.column(i).flatten().to_pylist() for i, name in enumerate(batch.schema.names)
    }


def _differences(ours, full, examples) -> list[str]:
    found = []
    for split in SPLITS:
        found += [
            f"{split}: {d}"
            for d in parity.differences(
                parity.flat_statistics(stats_artifact_utils.load_statistics(ours, split).proto()),
                parity.flat_statistics(stats_artifact_utils.load_statistics(full, split).proto()),
                parity.SketchTolerance(_values(examples, split)),
            )
        ]
    return found


def _reused_computed(statistics) -> tuple[int, int]:
    return (
        statistics.get_int_custom_property(fast_executor.FILES_REUSED_PROPERTY),
        statistics.get_int_custom_property(fast_executor.FILES_COMPUTED_PROPERTY),
    )


def test_a_nightly_run_reuses_the_day_files_and_matches_a_full_recomputation(runs, tmp_path):
    cache = str(tmp_path / "accumulators")
    first_files, nightly_files = _files(runs["first"]), _files(runs["nightly"])
    n_first = sum(len(f) for f in first_files.values())
    first = _statistics(runs["first"], tmp_path / "first", accumulator_cache=cache)
    assert _reused_computed(first) == (0, n_first)
    assert dict(first.get_json_value_custom_property(fast_executor.STATISTICS_PATH_PROPERTY)) == {
        s: fast_executor.PER_FILE for s in SPLITS
    }
    # The day files of both windows (by day; a day may have moved from eval to train).
    day_names = {n for files in first_files.values() for n in files if day_cache.is_day_file(n)}
    common = [n for files in nightly_files.values() for n in files if n in day_names]
    assert common and all(day_cache.is_day_file(n) for n in common)
    n_nightly = sum(len(f) for f in nightly_files.values())

    nightly = _statistics(runs["nightly"], tmp_path / "nightly", accumulator_cache=cache)
    assert _reused_computed(nightly) == (len(common), n_nightly - len(common))
    full = _statistics(runs["nightly"], tmp_path / "full")
    assert not full.has_custom_property(fast_executor.FILES_REUSED_PROPERTY)
    assert _differences(nightly, full, runs["nightly"]) == []
    assert (
        _differences(first, _statistics(runs["first"], tmp_path / "first_full"), runs["first"])
        == []
    )


def test_a_torn_accumulator_file_is_computed_again(runs, tmp_path):
    cache = tmp_path / "accumulators"
    _statistics(runs["first"], tmp_path / "first", accumulator_cache=str(cache))
    stored = sorted(cache.glob("*.pkl"))
    stored[0].write_bytes(stored[0].read_bytes()[:100])  # a torn write
    n_first = sum(len(f) for f in _files(runs["first"]).values())
    n_day_files = len(stored)
    again = _statistics(runs["first"], tmp_path / "again", accumulator_cache=str(cache))
    assert _reused_computed(again) == (n_day_files - 1, n_first - n_day_files + 1)
    full = _statistics(runs["first"], tmp_path / "full")
    assert _differences(again, full, runs["first"]) == []
