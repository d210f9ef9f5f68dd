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
