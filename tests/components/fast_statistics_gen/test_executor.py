"""FastStatisticsGen against the stock StatisticsGen executor on the same real examples."""

from __future__ import annotations

import json
import os
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
from pipeline.schema import curated_schema_path
from tests.transforms.conftest import raw_example, serialize, synthetic_examples

SPLITS = ("train", "eval")


def _write_examples(
    root: Path, rows_by_split: dict[str, list[dict]]
) -> standard_artifacts.Examples:
    for split, rows in rows_by_split.items():
        (root / f"Split-{split}").mkdir(parents=True)
        path = str(root / f"Split-{split}" / "data_tfrecord-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for row in rows:
                writer.write(serialize(row))
    examples = standard_artifacts.Examples()
    examples.uri = str(root)
    examples.split_names = artifact_utils.encode_split_names(list(rows_by_split))
    examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    return examples


def _statistics(executor_class, examples, out: Path):
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = str(out)
    context = executor_class.Context(
        beam_pipeline_args=["--runner=DirectRunner"], tmp_dir=str(out / ".tmp"), unique_id="1"
    )
    executor_class(context).Do(
        {"examples": [examples]}, {"statistics": [statistics]}, {"exclude_splits": json.dumps([])}
    )
    return statistics


def _summary(stats) -> dict:
    """What ExampleValidator reads, per feature: presence, value counts, ranges, values."""
    dataset = stats.datasets[0]
    result = {"num_examples": dataset.num_examples}
    for feature in dataset.features:
        which = feature.WhichOneof("stats")
        block = getattr(feature, which)
        common = block.common_stats
        entry = {
            "type": feature.type,
            "non_missing": common.num_non_missing,
            "missing": common.num_missing,
            "min_values": common.min_num_values,
            "max_values": common.max_num_values,
        }
        if which == "num_stats":
            entry.update(min=block.min, max=block.max, mean=round(block.mean, 6))
        else:
            entry.update(unique=block.unique, top=sorted(v.value for v in block.top_values))
        result[feature.path.step[0]] = entry
    return result


def _anomalies(stats) -> dict:
    schema = io_utils.parse_pbtxt_file(curated_schema_path(), schema_pb2.Schema())
    found = tfdv.validate_statistics(stats, schema).anomaly_info
    return {name: sorted(r.type for r in info.reason) for name, info in found.items()}


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, standard_artifacts.Examples]:
    root = tmp_path_factory.mktemp("stats")
    clean = {"train": synthetic_examples(900, seed=11), "eval": synthetic_examples(200, seed=12)}
    bad_rows = synthetic_examples(300, seed=13)
    for row in bad_rows[::7]:
        row["speed_kmh"] = [950.0]  # outside the curated domain
    bad_rows.append(raw_example(1, 3, vehicle_type="tram"))  # outside the string domain
    return {
        "clean": _write_examples(root / "clean", clean),
        "bad": _write_examples(root / "bad", {"train": bad_rows, "eval": clean["eval"]}),
    }


@pytest.mark.parametrize("name", ["clean", "bad"])
def test_same_statistics_and_anomalies_as_the_stock_executor(datasets, name, tmp_path):
    examples = datasets[name]
    stock = _statistics(stock_executor.Executor, examples, tmp_path / "stock")
    fast = _statistics(fast_executor.Executor, examples, tmp_path / "fast")
    assert fast.get_int_custom_property(fast_executor.FAST_PATH_PROPERTY) == 1
    assert fast.split_names == stock.split_names
    for split in SPLITS:
        ours = stats_artifact_utils.load_statistics(fast, split).proto()
        theirs = stats_artifact_utils.load_statistics(stock, split).proto()
        assert _summary(ours) == _summary(theirs)
        assert _anomalies(ours) == _anomalies(theirs)
    if name == "bad":
        bad = _anomalies(stats_artifact_utils.load_statistics(fast, "train").proto())
        assert set(bad) == {"speed_kmh", "vehicle_type"}


def test_large_splits_take_the_stock_path(datasets, tmp_path, monkeypatch):
    monkeypatch.setattr(fast_executor, "IN_MEMORY_MAX_BYTES", 10)
    fast = _statistics(fast_executor.Executor, datasets["clean"], tmp_path / "fast")
    assert fast.get_int_custom_property(fast_executor.FAST_PATH_PROPERTY) == 0
    assert os.path.isfile(
        os.path.join(
            artifact_utils.get_split_uri([fast], "train"), stock_executor.DEFAULT_FILE_NAME
        )
    )
