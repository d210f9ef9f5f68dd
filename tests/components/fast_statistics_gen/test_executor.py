"""FastStatisticsGen's in-memory and streaming paths against the stock executor.

Same real examples, every statistic of every feature compared both ways
(tests/components/fast_statistics_gen/parity.py), the artifact's properties, and the
anomalies ExampleValidator would see. Inputs have rows without lane or speed (and a
whole read batch without lane, so batches differ in columns), several read batches on
both paths (``READ_BATCH_SIZE`` shrunk), and both data kinds (events and counts).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.components.statistics_gen import executor as stock_executor
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_artifacts
from tfx.utils import io_utils

from components.fast_statistics_gen import executor as fast_executor
from components.fast_statistics_gen import planning, reading
from pipeline.schema import curated_schema_path
from tests.components.fast_statistics_gen import parity
from tests.transforms.conftest import raw_example, serialize, synthetic_counts, synthetic_examples
from transforms import features

SPLITS = ("train", "eval")
READ_BATCH = 1000  # rows per read batch in these tests: several batches per split
# Over 1 MiB / 16 of GZIP input per split, so a 1 MB budget streams every split.
STREAMING_BUDGET_MB = 1
DIRECT = ["--runner=DirectRunner"]


def _drop(index: int) -> tuple[str, ...]:
    """Which optional features row ``index`` lacks: all of the first read batch lacks
    lane; then rows without lane, without speed, or without both."""
    if index < READ_BATCH or index % 5 == 0:
        return (features.LANE,) + ((features.SPEED,) if index % 3 == 0 else ())
    return (features.SPEED,) if index % 7 == 0 else ()


def _write_examples(root: Path, rows_by_split: dict[str, list[dict]], drop) -> dict:
    """Examples artifact of the rows, and every split's values per feature as written."""
    values: dict[str, dict[str, list]] = {}
    for split, rows in rows_by_split.items():
        (root / f"Split-{split}").mkdir(parents=True)
        path = str(root / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz")
        split_values: dict[str, list] = {}
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for index, row in enumerate(rows):
                dropped = drop(index)
                writer.write(serialize(row, drop=dropped))
                for key, value in row.items():
                    if key not in dropped:
                        split_values.setdefault(key, []).extend(
                            value if isinstance(value, list) else [value]
                        )
        values[split] = split_values
    examples = standard_artifacts.Examples()
    examples.uri = str(root)
    examples.split_names = artifact_utils.encode_split_names(list(rows_by_split))
    examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    return {"examples": examples, "values": values}


def _statistics(executor_class, examples, out: Path, args=DIRECT, **properties):
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(out)
    context = executor_class.Context(
        beam_pipeline_args=list(args), tmp_dir=str(out / ".tmp"), unique_id="1"
    )
    exec_properties = {"exclude_splits": json.dumps([]), **properties}
    executor_class(context).Do(
        {"examples": [examples]}, {"statistics": [statistics]}, exec_properties
    )
    return statistics


def _proto(statistics, split: str):
    return stats_artifact_utils.load_statistics(statistics, split).proto()


def _property_differences(ours, theirs) -> list[str]:
    """Every stock custom property must be equal; ours may add only OWN_PROPERTIES."""
    mine = dict(ours.mlmd_artifact.custom_properties)
    stock = dict(theirs.mlmd_artifact.custom_properties)
    found = [f"missing property {k}" for k in stock if k not in mine]
    found += [
        f"property {k}: {mine[k]} vs {stock[k]}" for k in stock if k in mine and mine[k] != stock[k]
    ]
    found += [
        f"extra property {k}"
        for k in mine
        if k not in stock and k not in fast_executor.OWN_PROPERTIES
    ]
    for name in ("split_names", "span"):
        if ours.mlmd_artifact.properties[name] != theirs.mlmd_artifact.properties[name]:
            found.append(f"artifact property {name} differs")
    return found


def _all_differences(ours, theirs, values: dict[str, dict[str, list]]) -> list[str]:
    found = _property_differences(ours, theirs)
    for split in SPLITS:
        found += [
            f"{split}: {d}"
            for d in parity.differences(
                parity.flat_statistics(_proto(ours, split)),
                parity.flat_statistics(_proto(theirs, split)),
                parity.SketchTolerance(values[split]),
            )
        ]
    return found


def _anomalies(stats, kind: str) -> dict:
    schema = io_utils.parse_pbtxt_file(curated_schema_path(kind), schema_pb2.Schema())
    found = tfdv.validate_statistics(stats, schema).anomaly_info
    return {name: sorted(r.type for r in info.reason) for name, info in found.items()}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, dict]:
    root = tmp_path_factory.mktemp("stats")
    events = {"train": synthetic_examples(4000, seed=11), "eval": synthetic_examples(3000, seed=12)}
    bad_rows = synthetic_examples(4000, seed=13)
    for row in bad_rows[::7]:
        row[features.SPEED] = [950.0]  # outside the curated domain
    bad_rows.append(raw_example(1, 3, vehicle_type="tram"))  # outside the string domain
    counts = {"train": synthetic_counts(2, seed=14), "eval": synthetic_counts(2, 15, first_week=2)}
    return {
        "events": _write_examples(root / "events", events, _drop),
        "bad": _write_examples(root / "bad", {"train": bad_rows, "eval": events["eval"]}, _drop),
        "counts": _write_examples(root / "counts", counts, lambda index: ()),
    }


@pytest.fixture(scope="module")
def stock_statistics(datasets, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("stock")
    return {
        name: _statistics(stock_executor.Executor, data["examples"], root / name)
        for name, data in datasets.items()
    }


@pytest.fixture(autouse=True)
def _small_read_batches(monkeypatch):
    monkeypatch.setattr(reading, "READ_BATCH_SIZE", READ_BATCH)


@pytest.mark.parametrize("name", ["events", "bad", "counts"])
@pytest.mark.parametrize(
    ("path", "budget_mb"), [(planning.IN_MEMORY, 0), (planning.STREAMING, STREAMING_BUDGET_MB)]
)
def test_every_statistic_and_property_equals_the_stock_executors(
    datasets, stock_statistics, name, path, budget_mb, tmp_path
):
    data = datasets[name]
    ours = _statistics(
        fast_executor.Executor, data["examples"], tmp_path, memory_budget_mb=budget_mb
    )
    assert dict(ours.get_json_value_custom_property(fast_executor.STATISTICS_PATH_PROPERTY)) == {
        split: path for split in SPLITS
    }
    assert ours.get_int_custom_property(fast_executor.FAST_PATH_PROPERTY) == 1
    theirs = stock_statistics[name]
    assert _all_differences(ours, theirs, data["values"]) == []
    kind = "counts" if name == "counts" else "events"
    for split in SPLITS:
        assert _anomalies(_proto(ours, split), kind) == _anomalies(_proto(theirs, split), kind)
    if name == "bad":
        bad = _anomalies(_proto(ours, "train"), kind)
        assert set(bad) == {features.SPEED, features.VEHICLE_TYPE}


def _stream(datasets, name: str, out: Path):
    return _statistics(
        fast_executor.Executor,
        datasets[name]["examples"],
        out,
        memory_budget_mb=STREAMING_BUDGET_MB,
    )


@pytest.mark.parametrize(
    "breakage",
    ["drop std_dev", "rename a feature", "add a custom stat", "shift a quantile", "drop a bucket"],
)
def test_the_parity_check_fails_on_a_broken_statistic(
    datasets, stock_statistics, breakage, tmp_path
):
    """The comparison is able to fail: one statistic of a copy of our output is broken."""
    ours = _stream(datasets, "events", tmp_path)
    theirs = stock_statistics["events"]
    values = datasets["events"]["values"]["train"]
    stats = _proto(ours, "train")
    by_name = {f.path.step[0]: f for f in stats.datasets[0].features}
    headway = by_name[features.SECONDS_TO_NEXT_VEHICLE]
    if breakage == "drop std_dev":
        headway.num_stats.ClearField("std_dev")
    elif breakage == "rename a feature":
        by_name[features.LANE].path.step[0] = "lane_number"
    elif breakage == "add a custom stat":
        headway.custom_stats.add(name="extra", num=1.0)
    elif breakage == "shift a quantile":
        (quantiles,) = [h for h in headway.num_stats.histograms if h.type == h.QUANTILES]
        quantiles.buckets[3].high_value = quantiles.buckets[6].high_value
    else:
        by_name[features.DIRECTION].string_stats.rank_histogram.buckets.pop()
    found = parity.differences(
        parity.flat_statistics(stats),
        parity.flat_statistics(_proto(theirs, "train")),
        parity.SketchTolerance(values),
    )
    assert found, breakage


def test_the_property_check_fails_on_a_changed_or_extra_property(
    datasets, stock_statistics, tmp_path
):
    ours = _stream(datasets, "counts", tmp_path)
    theirs = stock_statistics["counts"]
    assert _property_differences(ours, theirs) == []
    ours.set_json_value_custom_property("sample_rate_by_split", '{"eval": 0.5, "train": 1.0}')
    ours.set_int_custom_property("rows", 3)
    assert len(_property_differences(ours, theirs)) == 2


def test_the_sketch_tolerance_is_the_documented_rank_error():
    tolerance = parity.SketchTolerance({"x": list(range(1000))})  # 2 epsilon N = 20 ranks
    key = "/datasets[0]/features[x]/num_stats/histograms[QUANTILES]/buckets[4]/high_value"
    assert tolerance(key, 500.0, 519.0)
    assert not tolerance(key, 500.0, 530.0)
    assert not tolerance("/datasets[0]/features[x]/num_stats/mean", 500.0, 500.5)
    strings = parity.SketchTolerance({"s": [b"a"] * 2000})  # Misra-Gries: N / 1000 = 2
    top = "/datasets[0]/features[s]/string_stats/top_values[0]/frequency"
    assert strings(top, 2000.0, 1998.0)
    assert not strings(top, 2000.0, 1990.0)


@pytest.mark.slow
def test_a_split_over_the_budget_runs_the_stock_beam_job_on_a_cluster_runner(
    datasets, stock_statistics, tmp_path
):
    """The portable runner stands for a cluster; the split over budget goes to Beam."""
    portable = ["--runner=PortableRunner", "--job_endpoint=embed", "--environment_type=LOOPBACK"]
    ours = _statistics(
        fast_executor.Executor,
        datasets["counts"]["examples"],
        tmp_path,
        args=portable,
        memory_budget_mb=STREAMING_BUDGET_MB,
    )
    assert ours.get_int_custom_property(fast_executor.FAST_PATH_PROPERTY) == 0
    theirs = stock_statistics["counts"]
    assert _all_differences(ours, theirs, datasets["counts"]["values"]) == []


@pytest.mark.parametrize(
    ("input_mb", "budget_mb", "on_cluster", "path"),
    [
        (1, 16, False, planning.IN_MEMORY),
        (1, 16, True, planning.IN_MEMORY),
        (2, 16, False, planning.STREAMING),
        (2, 16, True, planning.BEAM),
    ],
)
def test_the_path_follows_the_budget_and_the_runner(input_mb, budget_mb, on_cluster, path):
    assert planning.choose_path(input_mb << 20, budget_mb << 20, on_cluster) == path
