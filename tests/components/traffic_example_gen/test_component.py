"""TrafficExampleGen in a LocalDagRunner pipeline: counts land in MLMD."""

from __future__ import annotations

import json
import os

import tensorflow_data_validation as tfdv
from tfx import v1 as tfx
from tfx.orchestration import metadata

from components.traffic_example_gen import accounting as acc
from components.traffic_example_gen.component import TrafficExampleGen, TrafficRejects
from tests.components.traffic_example_gen.helpers import LONDON, write_csv
from transforms import features


def test_custom_properties_are_in_mlmd_and_stock_statistics_gen_reads_examples(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    write_csv(
        data / "2026-03-28.csv",
        [
            ("2026-03-28T08:00:00Z", "A", "N", "car", 1, 30),
            ("2026-03-28T08:00:00.5Z", "A", "N", "bus", 1, 30),  # same second
        ],
    )
    write_csv(
        data / "2026-03-29.csv",
        [
            ("2026-03-29T08:00:00Z", "A", "N", "car", 1, 30),
            ("2026-03-29T08:00:01Z", "A", "N", "tram", 1, 30),
        ],
    )
    span_end = tfx.dsl.experimental.RuntimeParameter(
        name="span_end", ptype=str, default="2026-03-29"
    )
    example_gen = TrafficExampleGen(
        input_base=str(data),
        timezone=LONDON,
        span_begin="2026-03-28",
        span_end=span_end,
        split_config=json.dumps({"kind": "time", "eval_days": 1}),
        max_reject_fraction=0.5,
        duplicates=acc.DUPLICATES_KEEP,
    )
    statistics_gen = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    db = str(tmp_path / "mlmd.sqlite")
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="traffic_example_gen_test",
        pipeline_root=str(tmp_path / "root"),
        components=[example_gen, statistics_gen],
        metadata_connection_config=metadata.sqlite_metadata_connection_config(db),
    )
    tfx.orchestration.LocalDagRunner().run(pipeline)

    with metadata.Metadata(metadata.sqlite_metadata_connection_config(db)) as store:
        [examples] = store.store.get_artifacts_by_type("Examples")
        [rejects] = store.store.get_artifacts_by_type(TrafficRejects.TYPE_NAME)
        [statistics] = store.store.get_artifacts_by_type("ExampleStatistics")
    props = {k: v.int_value for k, v in examples.custom_properties.items()}
    assert props[acc.ROWS_READ] == 4
    assert props[acc.rejected_key(acc.UNKNOWN_VEHICLE_TYPE)] == 1
    assert props[acc.EXAMPLES_TRAIN] == 2 and props[acc.EXAMPLES_EVAL] == 0
    assert props[acc.UNLABELED_LAST_VEHICLES] == 1 and props[acc.UNLABELED_BEFORE_GAP] == 0
    assert props[acc.SAME_SECOND_VEHICLES_KEPT] == 1
    assert examples.custom_properties["duplicates"].string_value == acc.DUPLICATES_KEEP
    assert examples.custom_properties["span_end"].string_value == "2026-03-29"
    assert examples.custom_properties["payload_format"].string_value == "FORMAT_TF_EXAMPLE"
    assert examples.properties["split_names"].string_value == '["train", "eval"]'
    assert rejects.custom_properties[acc.REJECTED_TOTAL].int_value == 1
    stats = tfdv.load_stats_binary(os.path.join(statistics.uri, "Split-train", "FeatureStats.pb"))
    [dataset] = stats.datasets
    assert dataset.num_examples == 2
    names = {feature.path.step[0] for feature in dataset.features}
    assert {features.SECONDS_TO_NEXT_VEHICLE, features.DAY_OF_WEEK, features.HOUR} <= names
