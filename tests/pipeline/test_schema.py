"""The curated schema names exactly the features the contract says ExampleGen writes."""

from __future__ import annotations

import dataclasses

from tensorflow_metadata.proto.v0 import schema_pb2
from tfx.utils import io_utils

from pipeline.schema import curated_schema_path
from transforms import features


def _schema() -> schema_pb2.Schema:
    return io_utils.parse_pbtxt_file(curated_schema_path(), schema_pb2.Schema())


def test_schema_features_match_the_contract():
    names = {f.name for f in _schema().feature}
    assert names == {
        features.TIMESTAMP_UTC,
        features.DAY_OF_WEEK,
        features.HOUR,
        features.INTERSECTION,
        features.DIRECTION,
        features.VEHICLE_TYPE,
        features.LANE,
        features.SPEED,
        features.SECONDS_TO_NEXT_VEHICLE,
    }


def test_schema_domains_match_the_contract():
    domains = {d.name: tuple(d.value) for d in _schema().string_domain}
    assert domains["vehicle_type"] == features.VEHICLE_TYPES
    assert domains["direction"] == features.DIRECTIONS
    by_name = {f.name: f for f in _schema().feature}
    assert (by_name[features.HOUR].int_domain.min, by_name[features.HOUR].int_domain.max) == (0, 23)
    assert by_name[features.DAY_OF_WEEK].int_domain.max == features.DAYS_PER_WEEK - 1


def test_schema_bounds_the_label_and_timestamp_to_plausible_ranges():
    by_name = {f.name: f for f in _schema().feature}
    label = by_name[features.SECONDS_TO_NEXT_VEHICLE].float_domain
    assert (label.min, label.max) == (0.0, features.MAX_HEADWAY_SECONDS)
    stamp = by_name[features.TIMESTAMP_UTC].int_domain
    assert (stamp.min, stamp.max) == (features.MIN_TIMESTAMP_UTC, features.MAX_TIMESTAMP_UTC)


def test_validation_against_the_schema_flags_a_year_long_headway():
    """The gate catches the implausible label of the date-mismatch bug (31,358,298 s)."""
    import pandas as pd
    import tensorflow_data_validation as tfdv

    def anomalies(headway: float) -> dict:
        frame = pd.DataFrame(
            {
                features.TIMESTAMP_UTC: [1774857600, 1774857601],
                features.DAY_OF_WEEK: [0, 0],
                features.HOUR: [8, 8],
                features.INTERSECTION: ["LDN-0001", "LDN-0001"],
                features.DIRECTION: ["N", "N"],
                features.VEHICLE_TYPE: ["car", "bus"],
                features.SECONDS_TO_NEXT_VEHICLE: [1.5, headway],
            }
        )
        stats = tfdv.generate_statistics_from_dataframe(frame)
        return dict(tfdv.validate_statistics(stats, _schema()).anomaly_info)

    assert anomalies(30.0) == {}
    flagged = anomalies(31_358_298.0)
    assert set(flagged) == {features.SECONDS_TO_NEXT_VEHICLE}
    assert "Out-of-range" in flagged[features.SECONDS_TO_NEXT_VEHICLE].short_description


def _counts_schema() -> schema_pb2.Schema:
    return io_utils.parse_pbtxt_file(
        curated_schema_path(features.DATA_KIND_COUNTS), schema_pb2.Schema()
    )


def test_counts_schema_matches_the_counts_contract():
    schema = _counts_schema()
    by_name = {f.name: f for f in schema.feature}
    assert set(by_name) == {
        features.TIMESTAMP_UTC,
        features.DAY_OF_WEEK,
        features.HOUR,
        features.INTERSECTION,
        features.DIRECTION,
        features.VEHICLE_TYPE,
        features.VEHICLE_COUNT,
    }
    assert set(features.COUNT_LABEL_KEYS) <= set(by_name)
    domains = {d.name: tuple(d.value) for d in schema.string_domain}
    assert domains["vehicle_type"] == features.VEHICLE_TYPES
    assert domains["direction"] == features.DIRECTIONS
    assert by_name[features.VEHICLE_TYPE].domain == "vehicle_type"
    assert by_name[features.DIRECTION].domain == "direction"
    count = by_name[features.VEHICLE_COUNT].int_domain
    assert (count.min, count.max) == (0, features.MAX_VEHICLE_COUNT)
    stamp = by_name[features.TIMESTAMP_UTC].int_domain
    assert (stamp.min, stamp.max) == (features.MIN_TIMESTAMP_UTC, features.MAX_TIMESTAMP_UTC)
    hour, day = by_name[features.HOUR].int_domain, by_name[features.DAY_OF_WEEK].int_domain
    assert (hour.min, hour.max) == (0, features.HOURS_PER_DAY - 1)
    assert (day.min, day.max) == (0, features.DAYS_PER_WEEK - 1)


def test_validation_against_the_counts_schema_flags_an_implausible_count():
    import pandas as pd
    import tensorflow_data_validation as tfdv

    def anomalies(count: int) -> dict:
        frame = pd.DataFrame(
            {
                features.TIMESTAMP_UTC: [1774857600, 1774861200],
                features.DAY_OF_WEEK: [0, 0],
                features.HOUR: [8, 9],
                features.INTERSECTION: ["LDN-0001", "LDN-0001"],
                features.DIRECTION: ["N", "N"],
                features.VEHICLE_TYPE: ["car", "bus"],
                features.VEHICLE_COUNT: [0, count],
            }
        )
        stats = tfdv.generate_statistics_from_dataframe(frame)
        return dict(tfdv.validate_statistics(stats, _counts_schema()).anomaly_info)

    assert anomalies(features.MAX_VEHICLE_COUNT) == {}
    flagged = anomalies(features.MAX_VEHICLE_COUNT + 1)
    assert set(flagged) == {features.VEHICLE_COUNT}


def test_pipeline_imports_the_schema_of_its_data_kind(tmp_path):
    """config.data.kind picks the curated schema and reaches TrafficExampleGen."""
    from pipeline.config import load_config
    from pipeline.names import EXAMPLE_GEN, SCHEMA_GEN
    from pipeline.pipeline import PipelineInputs, PipelinePaths, create_pipeline
    from pipeline.schema import curated_schema_dir

    paths = PipelinePaths(str(tmp_path / "root"), str(tmp_path / "serving"), curated_schema_dir())
    config = load_config("london")
    for kind in features.DATA_KINDS:
        kind_config = config.replace(data=dataclasses.replace(config.data, kind=kind))
        built = create_pipeline(kind_config, paths, PipelineInputs(data_root=str(tmp_path)))
        by_id = {c.id: c for c in built.components}
        assert by_id[SCHEMA_GEN].exec_properties["schema_file"] == curated_schema_path(kind)
        assert by_id[EXAMPLE_GEN].exec_properties["data_kind"] == kind
