"""TrafficExampleGen with ``data_kind=counts``: real Beam runs on hand-written hourly counts.

Expected examples are computed here with pandas and zoneinfo from the raw rows, not
with the component's own parsing code.
"""

from __future__ import annotations

import gzip
import json
import zoneinfo
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from components.traffic_example_gen import accounting as acc
from components.traffic_example_gen import executor
from components.traffic_example_gen.component import TrafficExampleGen
from components.traffic_example_gen.inputs import check_inputs
from tests.components.traffic_example_gen.helpers import (
    LONDON,
    TWO_DAY_SPLIT,
    int_properties,
    read_examples,
    read_rejects,
    run_executor,
)
from transforms import features

COUNTS = features.DATA_KIND_COUNTS
COLUMNS = features.REQUIRED_COUNT_COLUMNS  # hour_start, intersection_id, direction, type, count


def write_counts_csv(path: Path, rows: list[tuple]) -> Path:
    """A counts CSV; cells may be bytes (written as they are, e.g. invalid UTF-8)."""

    def cell(value) -> bytes:
        return value if isinstance(value, bytes) else str(value).encode()

    lines = [",".join(COLUMNS).encode()] + [b",".join(cell(c) for c in row) for row in rows]
    data = b"\n".join(lines) + b"\n"
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def expected_examples(rows: list[tuple]) -> list[dict]:
    """The examples of valid rows, computed with pandas / zoneinfo (sorted like read_examples)."""
    zone = zoneinfo.ZoneInfo(LONDON)
    out = []
    for hour_start, intersection, direction, vehicle_type, count in rows:
        instant = pd.Timestamp(hour_start)
        local = instant.to_pydatetime().astimezone(zone)
        out.append(
            {
                features.TIMESTAMP_UTC: int(instant.timestamp()),
                features.DAY_OF_WEEK: local.weekday(),
                features.HOUR: local.hour,
                features.INTERSECTION: intersection,
                features.DIRECTION: direction,
                features.VEHICLE_TYPE: vehicle_type,
                features.VEHICLE_COUNT: int(count),
            }
        )
    key = (
        features.INTERSECTION,
        features.DIRECTION,
        features.TIMESTAMP_UTC,
        features.VEHICLE_TYPE,
    )
    return sorted(out, key=lambda r: tuple(r[k] for k in key))


# Saturday 24 Oct 2026 (BST, +01:00), Sunday 25 Oct (clocks go back at 02:00 BST: the
# local hour 01:00 happens twice, at 00:00Z and 01:00Z), Monday 26 Oct (GMT).
SATURDAY = [
    ("2026-10-24T00:00:00+01:00", "LDN-0001", "N", "car", 12),
    ("2026-10-24T08:00:00+01:00", "LDN-0001", "N", "car", 250),
    ("2026-10-24T08:00:00+01:00", "LDN-0001", "N", "bus", 0),  # explicit zero: kept
    ("2026-10-24T07:00:00Z", "LDN-0002", "E", "bicycle", 3),  # = 08:00 BST
    ("2026-10-24T23:00:00+01:00", "LDN-0002", "W", "truck", 1),
]
SUNDAY = [
    ("2026-10-25T00:00:00+01:00", "LDN-0001", "N", "car", 9),
    ("2026-10-25T01:00:00+01:00", "LDN-0001", "N", "car", 4),  # first 01:00 (00:00Z)
    ("2026-10-25T01:00:00+00:00", "LDN-0001", "N", "car", 5),  # second 01:00 (01:00Z)
    ("2026-10-25T02:00:00+00:00", "LDN-0001", "N", "car", 6),
    ("2026-10-25T23:00:00Z", "LDN-0001", "S", "truck", 2),
]
MONDAY = [  # written as Parquet: tz-aware timestamps and int64 counts
    ("2026-10-26T00:00:00+00:00", "LDN-0001", "N", "car", 7),
    ("2026-10-26T17:00:00+00:00", "LDN-0002", "E", "bus", 0),
    ("2026-10-26T17:00:00+00:00", "LDN-0002", "E", "car", 40),
]


def write_parquet(path: Path, rows: list[tuple]) -> Path:
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    frame[features.RAW_HOUR_START] = pd.to_datetime(frame[features.RAW_HOUR_START], utc=True)
    frame[features.RAW_COUNT] = frame[features.RAW_COUNT].astype("int64")
    frame.to_parquet(path, index=False)
    return path


def _three_days(data: Path) -> None:
    data.mkdir()
    write_counts_csv(data / "2026-10-24.csv.gz", SATURDAY)
    write_counts_csv(data / "2026-10-25.csv", SUNDAY)
    write_parquet(data / "2026-10-26.parquet", MONDAY)


def test_examples_features_labels_and_time_split(tmp_path):
    _three_days(tmp_path / "data")
    examples, rejects = run_executor(tmp_path / "data", tmp_path / "out", data_kind=COUNTS)

    assert read_examples(examples, "train") == expected_examples(SATURDAY + SUNDAY)
    assert read_examples(examples, "eval") == expected_examples(MONDAY)
    assert read_rejects(rejects) == []
    # The repeated autumn hour: two examples, both local hour 1, an hour apart in UTC.
    repeated = [
        e
        for e in read_examples(examples, "train")
        if e[features.HOUR] == 1 and e[features.DAY_OF_WEEK] == 6
    ]
    assert [e[features.VEHICLE_COUNT] for e in repeated] == [4, 5]
    assert repeated[1][features.TIMESTAMP_UTC] - repeated[0][features.TIMESTAMP_UTC] == 3600

    props = int_properties(examples)
    assert props == int_properties(rejects)
    assert props[acc.ROWS_READ] == 13
    assert props[acc.EXAMPLES_TRAIN] == 10
    assert props[acc.EXAMPLES_EVAL] == 3
    assert props[acc.REJECTED_TOTAL] == 0
    assert props[acc.UNLABELED_LAST_VEHICLES] == 0
    assert acc.UNLABELED_BEFORE_GAP not in props  # no headways: the events-only count
    assert props[acc.VEHICLES_COUNTED] == sum(r[-1] for r in SATURDAY + SUNDAY + MONDAY)
    assert {acc.rejected_key(r) for r in acc.COUNT_REASONS} <= set(props)
    custom = examples.mlmd_artifact.custom_properties
    assert custom[executor.DATA_KIND_KEY].string_value == COUNTS
    assert custom["first_day"].string_value == "2026-10-24"


# (row cells, field, reason) of one bad row each, in file 2026-10-24.csv.
BAD_ROWS = [
    (("2026-10-24T05:00:00+01:00", b"LDN-\xff", "N", "car", 1), "intersection_id", "invalid_utf8"),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "", "car", 1), "direction", "missing_field"),
    (("yesterday", "LDN-0001", "N", "car", 1), "hour_start", "unparsable_timestamp"),
    (("2026-10-24T08:00:00+05:30", "LDN-0001", "N", "car", 1), "hour_start", "not_hour_start"),
    (("2026-10-24T08:30:00+01:00", "LDN-0001", "N", "car", 1), "hour_start", "not_hour_start"),
    (("2026-10-24T08:00:01+01:00", "LDN-0001", "N", "car", 1), "hour_start", "not_hour_start"),
    # 23:00Z is already Sunday 00:00 in London: outside the Saturday file.
    (("2026-10-24T23:00:00Z", "LDN-0001", "N", "car", 1), "hour_start", "date_outside_file"),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "NE", "car", 1), "direction", "unknown_direction"),
    (
        ("2026-10-24T05:00:00+01:00", "LDN-0001", "N", "tram", 1),
        "vehicle_type",
        "unknown_vehicle_type",
    ),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "N", "car", -1), "count", "invalid_count"),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "N", "car", 2.5), "count", "invalid_count"),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "N", "car", "many"), "count", "invalid_count"),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "N", "car", ""), "count", "invalid_count"),
    (("2026-10-24T05:00:00+01:00", "LDN-0001", "N"), "*", "wrong_field_count"),
]


def test_each_reject_reason_names_file_row_and_field(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    # Rows 1-5 valid; then one bad row per reason; then two duplicates of row 2.
    rows = list(SATURDAY) + [cells for cells, _, _ in BAD_ROWS]
    rows += [(*SATURDAY[1][:4], 251), SATURDAY[1]]  # same key as row 2: count differs / same
    rows += [("2026-10-24T09:00:00+01:00", "LDN-0001", "N", "car", 35)]  # cut: "3", no newline
    saturday = write_counts_csv(data / "2026-10-24.csv", rows)
    saturday.write_bytes(saturday.read_bytes()[:-2])
    write_counts_csv(data / "2026-10-25.csv", SUNDAY)
    examples, rejects = run_executor(
        data, tmp_path / "out", data_kind=COUNTS, max_reject_fraction=1.0
    )

    got = read_rejects(rejects)
    first_bad = len(SATURDAY) + 1
    expected = [
        (str(saturday), first_bad + i, field, reason)
        for i, (_, field, reason) in enumerate(BAD_ROWS)
    ]
    dup_rows = (first_bad + len(BAD_ROWS), first_bad + len(BAD_ROWS) + 1)
    expected += [(str(saturday), row, "*", "duplicate") for row in dup_rows]
    expected += [(str(saturday), len(rows), "*", "truncated_row")]
    assert [(r["file"], r["row"], r["field"], r["reason"]) for r in got] == expected
    assert {r["reason"] for r in got} == set(acc.COUNT_REASONS)
    values = {r["row"]: r["value"] for r in got}
    assert values[first_bad] == "LDN-\\xff"
    assert values[first_bad + 3] == "2026-10-24T08:00:00+05:30"
    assert values[first_bad + 10] == "2.5"
    assert (
        "row 2 (kept)" in values[dup_rows[0]]
        and "251 differs from the kept 250" in values[dup_rows[0]]
    )
    assert "row 2 (kept)" in values[dup_rows[1]] and "same count" in values[dup_rows[1]]

    # The valid rows (and only they) became examples; the first of the duplicates is kept.
    assert read_examples(examples, "train") == expected_examples(SATURDAY)
    assert read_examples(examples, "eval") == expected_examples(SUNDAY)
    props = int_properties(examples)
    assert props[acc.ROWS_READ] == len(rows) + len(SUNDAY)
    assert (
        props[acc.ROWS_READ]
        == props[acc.EXAMPLES_TRAIN] + props[acc.EXAMPLES_EVAL] + props[acc.REJECTED_TOTAL]
    )
    assert props[acc.REJECTED_TOTAL] == len(BAD_ROWS) + 3
    assert props[acc.rejected_key("not_hour_start")] == 3
    assert props[acc.rejected_key("invalid_count")] == 4
    assert props[acc.rejected_key("duplicate")] == 2
    assert props[acc.VEHICLES_COUNTED] == sum(r[-1] for r in SATURDAY + SUNDAY)
    counts = json.loads((Path(rejects.uri) / acc.COUNTS_FILE).read_text())
    assert counts[acc.file_rejected_key("duplicate", str(saturday))] == 2


def test_reject_limit_fails_naming_the_worst_file_and_reason(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_counts_csv(data / "2026-10-24.csv", SATURDAY)
    bad = [(*r[:4], -5) for r in SUNDAY[:2]]
    write_counts_csv(data / "2026-10-25.csv", SUNDAY + bad)
    with pytest.raises(
        ValueError,
        match=r"2 of 12 rows rejected .* Worst file: .*2026-10-25\.csv with 2 rejects, "
        r"most often 'invalid_count'",
    ):
        run_executor(data, tmp_path / "out", data_kind=COUNTS)
    # Within the limit, the same input runs.
    examples, _ = run_executor(data, tmp_path / "ok", data_kind=COUNTS, max_reject_fraction=0.2)
    assert int_properties(examples)[acc.REJECTED_TOTAL] == 2


def test_hash_split_keeps_all_rows_and_an_hour_of_one_approach_together(tmp_path):
    _three_days(tmp_path / "data")
    split = json.dumps({"kind": "hash", "eval_fraction": 0.5})
    examples, _ = run_executor(
        tmp_path / "data", tmp_path / "out", data_kind=COUNTS, split_config=split
    )
    train, eval_ = read_examples(examples, "train"), read_examples(examples, "eval")
    assert train and eval_
    everything = expected_examples(SATURDAY + SUNDAY + MONDAY)
    key = (features.INTERSECTION, features.DIRECTION, features.TIMESTAMP_UTC, features.VEHICLE_TYPE)
    assert sorted(train + eval_, key=lambda r: tuple(r[k] for k in key)) == everything

    def hours(rows):
        return {
            (r[features.INTERSECTION], r[features.DIRECTION], r[features.TIMESTAMP_UTC])
            for r in rows
        }

    assert not hours(train) & hours(eval_)


def test_parquet_counts_types(tmp_path):
    """Parquet: float counts count when whole; a timestamp without time zone is refused."""
    data = tmp_path / "data"
    data.mkdir()
    write_counts_csv(data / "2026-10-24.csv", SATURDAY)
    table = pa.table(
        {
            features.RAW_HOUR_START: pa.array(
                ["2026-10-25T08:00:00+00:00", "2026-10-25T09:00:00+00:00"], pa.string()
            ),
            features.RAW_INTERSECTION: ["LDN-0001", "LDN-0001"],
            features.RAW_DIRECTION: ["N", "N"],
            features.RAW_VEHICLE_TYPE: ["car", "car"],
            features.RAW_COUNT: pa.array([3.0, 2.5], pa.float64()),
        }
    )
    sunday = data / "2026-10-25.parquet"
    pq.write_table(table, sunday)
    examples, rejects = run_executor(
        data, tmp_path / "out", data_kind=COUNTS, max_reject_fraction=1.0
    )
    (example,) = read_examples(examples, "eval")
    assert (example[features.HOUR], example[features.VEHICLE_COUNT]) == (8, 3)
    assert [(r["file"], r["row"], r["reason"], r["value"]) for r in read_rejects(rejects)] == [
        (str(sunday), 2, "invalid_count", "2.5")
    ]

    naive = pa.array(np.array(["2026-10-25T08:00:00"], dtype="datetime64[us]"))
    pq.write_table(table.slice(0, 1).set_column(0, features.RAW_HOUR_START, naive), sunday)
    with pytest.raises(
        ValueError, match=r"2026-10-25\.parquet: column 'hour_start' is a timestamp"
    ):
        check_inputs(str(data), "", "", TWO_DAY_SPLIT, COUNTS)


def test_inputs_are_checked_against_the_counts_columns(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_counts_csv(data / "2026-10-24.csv", SATURDAY)
    (data / "2026-10-25.csv").write_text("hour_start,intersection_id,direction,vehicle_type\n")
    with pytest.raises(ValueError, match=r"2026-10-25\.csv: required column 'count' is missing"):
        run_executor(data, tmp_path / "out", data_kind=COUNTS)
    # A counts file is not an events file.
    with pytest.raises(ValueError, match=r"2026-10-24\.csv: required column 'timestamp'"):
        check_inputs(str(data), "", "", TWO_DAY_SPLIT, features.DATA_KIND_EVENTS)


def test_unknown_data_kind_is_refused(tmp_path):
    _three_days(tmp_path / "data")
    with pytest.raises(
        ValueError, match=r"data_kind='hourly' is not one of \('events', 'counts'\)"
    ):
        run_executor(tmp_path / "data", tmp_path / "out", data_kind="hourly")
    with pytest.raises(ValueError, match="data_kind='hourly'"):
        TrafficExampleGen(input_base=str(tmp_path), timezone=LONDON, data_kind="hourly")


def test_in_a_pipeline_the_examples_validate_against_the_counts_schema(tmp_path):
    """LocalDagRunner: data_kind reaches the executor; stock StatisticsGen reads the
    examples and they have no anomaly against the curated counts schema."""
    import tensorflow_data_validation as tfdv
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx import v1 as tfx
    from tfx.orchestration import metadata
    from tfx.utils import io_utils

    from pipeline.schema import curated_schema_path

    _three_days(tmp_path / "data")
    example_gen = TrafficExampleGen(
        input_base=str(tmp_path / "data"),
        timezone=LONDON,
        split_config=TWO_DAY_SPLIT,
        data_kind=COUNTS,
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    db = str(tmp_path / "mlmd.sqlite")
    tfx.orchestration.LocalDagRunner().run(
        tfx.dsl.Pipeline(
            pipeline_name="counts_example_gen_test",
            pipeline_root=str(tmp_path / "root"),
            components=[example_gen, statistics_gen],
            metadata_connection_config=metadata.sqlite_metadata_connection_config(db),
        )
    )
    with metadata.Metadata(metadata.sqlite_metadata_connection_config(db)) as store:
        [examples] = store.store.get_artifacts_by_type("Examples")
        [statistics] = store.store.get_artifacts_by_type("ExampleStatistics")
    assert examples.custom_properties[acc.VEHICLES_COUNTED].int_value == sum(
        r[-1] for r in SATURDAY + SUNDAY + MONDAY
    )
    assert examples.custom_properties[executor.DATA_KIND_KEY].string_value == COUNTS
    schema = io_utils.parse_pbtxt_file(curated_schema_path(COUNTS), schema_pb2.Schema())
    for split in ("train", "eval"):
        stats = tfdv.load_stats_binary(f"{statistics.uri}/Split-{split}/FeatureStats.pb")
        assert dict(tfdv.validate_statistics(stats, schema).anomaly_info) == {}
