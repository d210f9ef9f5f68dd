"""Shared helpers for TrafficExampleGen tests: tiny input files and executor runs."""

from __future__ import annotations

import glob
import gzip
import json
import os
from pathlib import Path

import apache_beam as beam
import pandas as pd
import tensorflow as tf
from tfx.types import standard_artifacts

from components.traffic_example_gen import executor
from components.traffic_example_gen.component import TrafficRejects
from transforms import features

COLUMNS = features.REQUIRED_RAW_COLUMNS + features.OPTIONAL_RAW_COLUMNS
LONDON = "Europe/London"
TWO_DAY_SPLIT = json.dumps({"kind": "time", "eval_days": 1})


def write_csv(path: Path, rows: list[tuple], columns: tuple[str, ...] = COLUMNS) -> Path:
    """Writes ``rows`` (tuples of cell strings) under a header of ``columns``."""
    lines = [",".join(columns)] + [",".join(str(c) for c in row) for row in rows]
    data = ("\n".join(lines) + "\n").encode()
    if path.name.endswith(".gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def write_parquet(path: Path, rows: list[tuple], columns: tuple[str, ...] = COLUMNS) -> Path:
    """Writes ``rows`` as a Parquet file of string columns (lane / speed typed)."""
    frame = pd.DataFrame(rows, columns=list(columns))
    frame[features.RAW_LANE] = pd.to_numeric(frame[features.RAW_LANE]).astype("Int64")
    frame[features.RAW_SPEED] = pd.to_numeric(frame[features.RAW_SPEED])
    frame.to_parquet(path, index=False)
    return path


def run_executor(input_dir: Path, out_dir: Path, beam_args: list[str] | None = None, **params):
    """Runs the executor's Do(); returns the (examples, rejects) artifacts."""
    examples = standard_artifacts.Examples()
    examples.uri = str(out_dir / "examples")
    rejects = TrafficRejects()
    rejects.uri = str(out_dir / "rejects")
    exec_properties = {
        executor.INPUT_BASE_KEY: str(input_dir),
        executor.TIMEZONE_KEY: LONDON,
        executor.SPLIT_CONFIG_KEY: TWO_DAY_SPLIT,
    }
    exec_properties.update(params)
    args = beam_args or []
    context = executor.Executor.Context(
        make_beam_pipeline_fn=lambda: beam.Pipeline(argv=args),
        tmp_dir=str(out_dir / "tmp"),
        unique_id="1",
    )
    executor.Executor(context).Do(
        {}, {executor.EXAMPLES_KEY: [examples], executor.REJECTS_KEY: [rejects]}, exec_properties
    )
    return examples, rejects


def _value(feature: tf.train.Feature):
    kind = feature.WhichOneof("kind")
    if kind is None:
        return None
    values = list(getattr(feature, kind).value)
    if not values:
        return None
    (value,) = values
    return value.decode() if isinstance(value, bytes) else value


def read_examples(examples, split: str) -> list[dict]:
    """The examples of one split as dicts, sorted by (intersection, direction, time)."""
    split_dir = os.path.join(examples.uri, f"Split-{split}")
    rows = []
    for path in sorted(glob.glob(os.path.join(split_dir, "*"))):
        for record in tf.data.TFRecordDataset(path, compression_type="GZIP"):
            example = tf.train.Example.FromString(record.numpy())
            rows.append({k: _value(v) for k, v in example.features.feature.items()})
    return sorted(
        rows,
        key=lambda r: (
            r[features.INTERSECTION],
            r[features.DIRECTION],
            r[features.TIMESTAMP_UTC],
            r[features.VEHICLE_TYPE],
        ),
    )


def read_rejects(rejects) -> list[dict]:
    """The reject records, sorted by (file, row)."""
    records = []
    for path in glob.glob(os.path.join(rejects.uri, "rejects-*")):
        with gzip.open(path, "rt") as handle:
            records.extend(json.loads(line) for line in handle if line.strip())
    return sorted(records, key=lambda r: (r["file"], r["row"]))


def int_properties(artifact) -> dict[str, int]:
    """The int custom properties of an artifact."""
    return {
        k: v.int_value
        for k, v in artifact.mlmd_artifact.custom_properties.items()
        if v.HasField("int_value")
    }
