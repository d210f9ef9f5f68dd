"""The StrictExampleValidator executor on real TFDV statistics and schemas: the stock
validation runs and records its anomalies, then any anomaly stops the run, named."""

from __future__ import annotations

import os

import pandas as pd
import pytest
import tensorflow_data_validation as tfdv
from tfx.components.example_validator import executor as stock_executor
from tfx.types import artifact_utils, standard_artifacts, standard_component_specs
from tfx.utils import io_utils

from components.strict_example_validator import component, executor
from components.strict_example_validator.anomalies import (
    ANOMALIES_FILE,
    DataAnomalyError,
    load_anomalies,
)

CLEAN = pd.DataFrame(
    {"vehicle_type": ["car", "bus", "car", "van"], "speed_kmh": [31.0, 42.5, 12.0, 50.0]}
)
# One unseen vehicle type in eval: TFDV reports it against the schema's string domain.
UNSEEN_TYPE = pd.DataFrame({"vehicle_type": ["car", "tram"], "speed_kmh": [20.0, 30.0]})


def _statistics(tmp_path, splits: dict[str, pd.DataFrame]) -> standard_artifacts.ExampleStatistics:
    """An ExampleStatistics artifact laid out as StatisticsGen writes it (FeatureStats.pb)."""
    stats = standard_artifacts.ExampleStatistics()
    stats.uri = str(tmp_path / "StatisticsGen" / "statistics" / "1")
    stats.split_names = artifact_utils.encode_split_names(list(splits))
    for split, frame in splits.items():
        split_dir = artifact_utils.get_split_uri([stats], split)
        os.makedirs(split_dir)
        proto = tfdv.generate_statistics_from_dataframe(frame)
        io_utils.write_bytes_file(
            os.path.join(split_dir, "FeatureStats.pb"), proto.SerializeToString()
        )
    return stats


def _schema(tmp_path) -> standard_artifacts.Schema:
    """The schema TFDV infers from the clean rows (string domain car/bus/van)."""
    schema = standard_artifacts.Schema()
    schema.uri = str(tmp_path / "SchemaGen" / "schema" / "2")
    os.makedirs(schema.uri)
    inferred = tfdv.infer_schema(tfdv.generate_statistics_from_dataframe(CLEAN))
    tfdv.write_schema_text(inferred, os.path.join(schema.uri, "schema.pbtxt"))
    return schema


def _validate(tmp_path, splits, exec_properties=None):
    anomalies = standard_artifacts.ExampleAnomalies()
    anomalies.uri = str(tmp_path / "ExampleValidator" / "anomalies" / "3")
    inputs = {
        standard_component_specs.STATISTICS_KEY: [_statistics(tmp_path, splits)],
        standard_component_specs.SCHEMA_KEY: [_schema(tmp_path)],
    }
    outputs = {standard_component_specs.ANOMALIES_KEY: [anomalies]}
    return anomalies, lambda: executor.Executor().Do(inputs, outputs, exec_properties or {})


def _anomalous_features(anomalies_artifact, split: str) -> list[str]:
    split_dir = artifact_utils.get_split_uri([anomalies_artifact], split)
    return sorted(load_anomalies(split_dir).anomaly_info)


def test_clean_splits_pass_and_record_empty_anomalies(tmp_path):
    anomalies, validate = _validate(tmp_path, {"train": CLEAN, "eval": CLEAN})
    validate()
    assert artifact_utils.decode_split_names(anomalies.split_names) == ["train", "eval"]
    for split in ("train", "eval"):
        split_dir = artifact_utils.get_split_uri([anomalies], split)
        assert os.path.isfile(os.path.join(split_dir, ANOMALIES_FILE))
        assert _anomalous_features(anomalies, split) == []


def test_an_anomaly_stops_the_run_named_after_the_stock_validator_recorded_it(tmp_path):
    anomalies, validate = _validate(tmp_path, {"train": CLEAN, "eval": UNSEEN_TYPE})
    with pytest.raises(DataAnomalyError) as raised:
        validate()
    message = str(raised.value)
    assert "eval: feature 'vehicle_type'" in message
    assert "train:" not in message  # the clean split is not blamed
    # The stock executor's output is kept for inspection: eval's anomaly, train's none.
    assert _anomalous_features(anomalies, "eval") == ["vehicle_type"]
    assert _anomalous_features(anomalies, "train") == []


def test_the_stock_executor_alone_records_but_does_not_raise(tmp_path):
    """The contrast that makes the strict executor necessary (same inputs, stock class)."""
    anomalies, _ = _validate(tmp_path, {"train": CLEAN, "eval": UNSEEN_TYPE})
    stats_and_schema = {
        standard_component_specs.STATISTICS_KEY: [
            _statistics(tmp_path / "stock", {"train": CLEAN, "eval": UNSEEN_TYPE})
        ],
        standard_component_specs.SCHEMA_KEY: [_schema(tmp_path / "stock")],
    }
    stock_executor.Executor().Do(
        stats_and_schema, {standard_component_specs.ANOMALIES_KEY: [anomalies]}, {}
    )
    assert _anomalous_features(anomalies, "eval") == ["vehicle_type"]


def test_excluded_splits_are_not_validated(tmp_path):
    exclude = {standard_component_specs.EXCLUDE_SPLITS_KEY: '["eval"]'}
    anomalies, validate = _validate(tmp_path, {"train": CLEAN, "eval": UNSEEN_TYPE}, exclude)
    validate()
    assert artifact_utils.decode_split_names(anomalies.split_names) == ["train"]


def test_the_component_is_the_stock_interface_with_the_strict_executor():
    statistics = standard_artifacts.ExampleStatistics()
    schema = standard_artifacts.Schema()
    from tfx.types import channel_utils

    validator = component.StrictExampleValidator(
        statistics=channel_utils.as_channel([statistics]),
        schema=channel_utils.as_channel([schema]),
    )
    assert validator.executor_spec.executor_class is executor.Executor
    assert set(validator.outputs) == {standard_component_specs.ANOMALIES_KEY}
    assert validator.outputs[standard_component_specs.ANOMALIES_KEY].type is (
        standard_artifacts.ExampleAnomalies
    )
