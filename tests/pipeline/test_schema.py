"""The curated schema names exactly the features the contract says ExampleGen writes."""

from __future__ import annotations

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
