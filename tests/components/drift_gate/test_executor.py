"""The DriftGate executor on real artifacts: gzipped tf.Example files, TFDV statistics
(of the same rows, in memory, instead of a Beam StatisticsGen run).

Two runs' worth of Examples (one split) are written as ExampleGen writes them; the
statistics are TFDV's. The executor's drift statistics hold the vehicle counts per
approach x hour (weighted by ``vehicle_count`` for counts data), and its verdict follows
the baseline recorded on a blessing: none, gone, the same data, or a halved approach.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest
import tensorflow as tf
import tensorflow_data_validation as tfdv
from tfx.types import artifact_utils, standard_artifacts

from components.drift_gate import checks, derived, executor
from transforms import features

SPLIT = "train"
APPROACHES = [("A", "N"), ("A", "S"), ("B", "E"), ("B", "W")]


def _rows(halved: tuple[str, str] | None = None, count: int = 1):
    """Vehicles over 4 approaches x 24 hours (more in busy hours); ``halved`` keeps
    half of one approach's."""
    rows = []
    for inter, direction in APPROACHES:
        for hour in range(24):
            n = 10 + (30 if 7 <= hour <= 18 else 0)
            if (inter, direction) == halved:
                n //= 2
            rows += [(inter, direction, hour, count)] * n
    return rows


def _artifacts(root, rows, kind):
    """An Examples artifact (one split, one gzipped file) and its TFDV statistics."""
    examples, stats = standard_artifacts.Examples(), standard_artifacts.ExampleStatistics()
    examples.uri, stats.uri = str(root / "examples"), str(root / "statistics")
    for artifact in (examples, stats):
        artifact.split_names = artifact_utils.encode_split_names([SPLIT])
    split_dir = os.path.join(examples.uri, f"Split-{SPLIT}")
    os.makedirs(split_dir)
    options = tf.io.TFRecordOptions(compression_type="GZIP")
    with tf.io.TFRecordWriter(os.path.join(split_dir, "data-00000-of-00001.gz"), options) as out:
        for inter, direction, hour, count in rows:
            feature = {
                features.INTERSECTION: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[inter.encode()])
                ),
                features.DIRECTION: tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[direction.encode()])
                ),
                features.HOUR: tf.train.Feature(int64_list=tf.train.Int64List(value=[hour])),
            }
            if kind == features.DATA_KIND_COUNTS:
                feature[features.VEHICLE_COUNT] = tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[count])
                )
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            out.write(example.SerializeToString())
    columns = [features.INTERSECTION, features.DIRECTION, features.HOUR, features.VEHICLE_COUNT]
    frame = tfdv.generate_statistics_from_dataframe(pd.DataFrame(rows, columns=columns))
    os.makedirs(os.path.join(stats.uri, f"Split-{SPLIT}"))
    with open(os.path.join(stats.uri, f"Split-{SPLIT}", executor.WINDOW_FILE), "wb") as f:
        f.write(frame.SerializeToString())
    return examples, stats


def _run(root, rows, baseline_uri=None, mode="block", kind=features.DATA_KIND_EVENTS):
    examples, stats = _artifacts(root, rows, kind)
    drift, anomalies = standard_artifacts.ExampleStatistics(), standard_artifacts.ExampleAnomalies()
    drift.uri, anomalies.uri = str(root / "drift"), str(root / "anomalies")
    baseline = []
    if baseline_uri is not None:
        blessing = standard_artifacts.ModelBlessing()
        blessing.set_string_custom_property(checks.BLESSING_STATISTICS_URI, baseline_uri)
        baseline = [blessing]
    executor.Executor().Do(
        {"statistics": [stats], "examples": [examples], "baseline": baseline},
        {"drift_statistics": [drift], "anomalies": [anomalies]},
        {
            "mode": mode,
            "thresholds": '{"approach": 0.02, "direction": 0.02}',
            "data_kind": kind,
        },
    )
    return drift


def _result(drift):
    return drift.get_string_custom_property(checks.RESULT)


def test_the_derived_statistics_count_vehicles_per_approach_and_hour(tmp_path):
    drift = _run(tmp_path / "events", _rows())
    derived_stats = tfdv.load_stats_binary(
        os.path.join(drift.uri, f"Split-{SPLIT}", executor.DERIVED_FILE)
    )
    counts = {
        b.label: b.sample_count
        for f in derived_stats.datasets[0].features
        if f.path.step == [checks.APPROACH_HOUR]
        for b in f.string_stats.weighted_string_stats.rank_histogram.buckets
    }
    assert len(counts) == len(APPROACHES) * 24
    assert counts[derived.approach_hour_key("A", "N", 8)] == 40
    assert counts[derived.approach_hour_key("B", "W", 2)] == 10
    assert _result(drift) == checks.NO_BASELINE


def test_counts_data_weighs_each_row_by_its_vehicle_count(tmp_path):
    drift = _run(tmp_path / "counts", _rows(count=7), kind=features.DATA_KIND_COUNTS)
    derived_stats = tfdv.load_stats_binary(
        os.path.join(drift.uri, f"Split-{SPLIT}", executor.DERIVED_FILE)
    )
    [approach] = [f for f in derived_stats.datasets[0].features if f.path.step == ["approach"]]
    weighted = approach.string_stats.weighted_string_stats.rank_histogram.buckets
    assert {b.label: b.sample_count for b in weighted}["A/N"] == 7 * (12 * 10 + 12 * 40)


@pytest.mark.parametrize(("mode", "blocked"), [("block", 1), ("warn", 0)])
def test_a_halved_approach_drifts_and_blocks_only_in_block_mode(tmp_path, mode, blocked):
    base = _run(tmp_path / "base", _rows())
    drift = _run(tmp_path / "new", _rows(halved=("A", "N")), base.uri, mode)
    assert _result(drift) == checks.DRIFT
    assert drift.get_string_custom_property(checks.DRIFTED_FEATURES) == "direction,approach"
    assert drift.get_int_custom_property(checks.BLOCKED) == blocked
    [approach] = [
        m
        for m in checks.from_json(drift.get_string_custom_property(checks.MEASUREMENTS))
        if m.feature == checks.APPROACH
    ]
    # A/N: 1/4 of the vehicles before, 0.5 / 3.5 = 1/7 after.
    assert approach.value == pytest.approx(1 / 4 - 1 / 7)


def test_the_same_data_is_ok_and_a_gone_baseline_is_said(tmp_path):
    base = _run(tmp_path / "base", _rows())
    assert _result(_run(tmp_path / "same", _rows(), base.uri)) == checks.OK
    gone = _run(tmp_path / "gone", _rows(), str(tmp_path / "deleted"))
    assert _result(gone) == checks.BASELINE_MISSING
    assert gone.get_int_custom_property(checks.BLOCKED) == 0
