"""Shared fixtures: tiny synthetic raw examples, a real TFT pass, and real FnArgs."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_model_analysis as tfma
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tfx.components.trainer.fn_args_utils import DataAccessor, FnArgs
from tfx.components.util import tfxio_utils
from tfx.types import artifact_utils, standard_artifacts

from components.fast_evaluator.executor import compute_sliced_metrics
from pipeline.config import EvaluationConfig
from pipeline.evaluation import build_eval_config
from transforms import features
from transforms.preprocessing import preprocessing_fn

LOCATION_BUCKETS = 64
INTERSECTIONS = tuple(f"X{i:03d}" for i in range(12))

RAW_FEATURE_SPEC = {
    features.TIMESTAMP_UTC: tf.io.FixedLenFeature([], tf.int64),
    features.DAY_OF_WEEK: tf.io.FixedLenFeature([], tf.int64),
    features.HOUR: tf.io.FixedLenFeature([], tf.int64),
    features.INTERSECTION: tf.io.FixedLenFeature([], tf.string),
    features.DIRECTION: tf.io.FixedLenFeature([], tf.string),
    features.VEHICLE_TYPE: tf.io.FixedLenFeature([], tf.string),
    features.LANE: tf.io.VarLenFeature(tf.int64),
    features.SPEED: tf.io.VarLenFeature(tf.float32),
    features.SECONDS_TO_NEXT_VEHICLE: tf.io.FixedLenFeature([], tf.float32),
}


def raw_example(
    day: int,
    hour: int,
    intersection: str = "X000",
    direction: str = "N",
    vehicle_type: str = "car",
    headway: float = 10.0,
) -> dict:
    """One raw instance dict in the format TFT's instance-dict input expects."""
    return {
        features.TIMESTAMP_UTC: 1_773_619_200 + (day * 24 + hour) * 3600,
        features.DAY_OF_WEEK: day,
        features.HOUR: hour,
        features.INTERSECTION: intersection.encode(),
        features.DIRECTION: direction.encode(),
        features.VEHICLE_TYPE: vehicle_type.encode(),
        features.LANE: [1],
        features.SPEED: [30.0],
        features.SECONDS_TO_NEXT_VEHICLE: headway,
    }


def true_rate(day: int, hour: int) -> float:
    """Vehicles per second of the synthetic city: rush hours on weekdays, quiet nights."""
    rush = 1.0 if hour in (7, 8, 16, 17) and day < 5 else 0.0
    daytime = 1.0 if 6 <= hour <= 21 else 0.0
    return 0.01 + 0.05 * daytime + 0.2 * rush


def synthetic_examples(n: int, seed: int) -> list[dict]:
    """``n`` raw instances with day-hour dependent headways and vehicle-type mixes."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        day, hour = int(rng.integers(0, 7)), int(rng.integers(0, 24))
        shares = true_shares(day)
        rows.append(
            raw_example(
                day,
                hour,
                intersection=str(rng.choice(INTERSECTIONS)),
                direction=str(rng.choice(features.DIRECTIONS)),
                vehicle_type=str(rng.choice(features.VEHICLE_TYPES, p=shares)),
                headway=float(rng.exponential(1.0 / true_rate(day, hour))),
            )
        )
    return rows


# Hourly counts examples (data.kind counts), as the counts ExampleGen writes them.
COUNT_RAW_FEATURE_SPEC = {
    features.TIMESTAMP_UTC: tf.io.FixedLenFeature([], tf.int64),
    features.DAY_OF_WEEK: tf.io.FixedLenFeature([], tf.int64),
    features.HOUR: tf.io.FixedLenFeature([], tf.int64),
    features.INTERSECTION: tf.io.FixedLenFeature([], tf.string),
    features.DIRECTION: tf.io.FixedLenFeature([], tf.string),
    features.VEHICLE_TYPE: tf.io.FixedLenFeature([], tf.string),
    features.VEHICLE_COUNT: tf.io.FixedLenFeature([], tf.int64),
}
COUNT_APPROACHES = (("X000", "N"), ("X000", "S"), ("X001", "E"), ("X002", "W"))
WEEK_START_UTC = 1_773_619_200  # Monday 2026-03-16 00:00 UTC (local = UTC here)


def true_shares(day: int) -> list[float]:
    """Vehicle-type mix of the synthetic city (VEHICLE_TYPES order): more bikes at weekends."""
    return [0.6, 0.05, 0.05, 0.3] if day >= 5 else [0.7, 0.15, 0.05, 0.1]


def count_example(
    day: int,
    hour: int,
    intersection: str = "X000",
    direction: str = "N",
    vehicle_type: str = "car",
    count: int = 10,
    week: int = 0,
) -> dict:
    """One hourly counts instance: vehicles of one type at one approach in one local hour."""
    return {
        features.TIMESTAMP_UTC: WEEK_START_UTC + ((week * 7 + day) * 24 + hour) * 3600,
        features.DAY_OF_WEEK: day,
        features.HOUR: hour,
        features.INTERSECTION: intersection.encode(),
        features.DIRECTION: direction.encode(),
        features.VEHICLE_TYPE: vehicle_type.encode(),
        features.VEHICLE_COUNT: count,
    }


def synthetic_counts(weeks: int, seed: int, first_week: int = 0) -> list[dict]:
    """Poisson counts of every (hour, approach, type) of ``weeks`` weeks, zeros included.

    The mean is the events fixture's profile: ``3600 * true_rate * share`` per hour.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for week in range(first_week, first_week + weeks):
        for day, hour in features.all_day_hours():
            per_hour = 3600.0 * true_rate(day, hour) * np.asarray(true_shares(day))
            for intersection, direction in COUNT_APPROACHES:
                for vehicle_type, mean in zip(features.VEHICLE_TYPES, per_hour, strict=True):
                    count = int(rng.poisson(mean))
                    rows.append(
                        count_example(day, hour, intersection, direction, vehicle_type, count, week)
                    )
    return rows


def serialize(row: dict, drop: tuple[str, ...] = ()) -> bytes:
    """A raw instance dict as a serialized tf.Example (``drop``: keys to leave out)."""
    feature = {}
    for key, value in row.items():
        if key in drop:
            continue
        values = value if isinstance(value, list) else [value]
        if isinstance(values[0], bytes):
            feature[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=values))
        elif isinstance(values[0], float):
            feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=values))
        else:
            feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=values))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@dataclass(frozen=True)
class TftRun:
    """Outputs of a real TFT analyze-and-transform pass over train and eval rows."""

    transform_dir: str
    examples_dir: str  # transformed: Split-train/ and Split-eval/ with gzipped TFRecords
    raw_examples_dir: str  # the raw rows as tf.Examples, laid out like ExampleGen's output
    train_rows: list
    eval_rows: list


def run_tft(
    tmp: Path,
    train_rows: list[dict],
    eval_rows: list[dict],
    custom_config: dict,
    raw_feature_spec: dict | None = None,
) -> TftRun:
    """Analyzes ``train_rows``, transforms both splits, writes transform_fn and TFRecords.

    ``raw_feature_spec``: the raw schema (default: the events one, ``RAW_FEATURE_SPEC``).
    """
    metadata = tft.DatasetMetadata.from_feature_spec(raw_feature_spec or RAW_FEATURE_SPEC)
    transform_dir = str(tmp / "transform_graph")
    examples_dir = tmp / "transformed_examples"
    fn = functools.partial(preprocessing_fn, custom_config=custom_config)
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=str(tmp / "tft_tmp")):
        train = pipeline | "Train" >> beam.Create(train_rows)
        evaluation = pipeline | "Eval" >> beam.Create(eval_rows)
        (train_xf, train_meta), transform_fn = (
            train,
            metadata,
        ) | tft_beam.AnalyzeAndTransformDataset(fn)
        eval_xf, _ = ((evaluation, metadata), transform_fn) | tft_beam.TransformDataset()
        coder = tft.coders.ExampleProtoCoder(train_meta.schema)
        for name, data in (("train", train_xf), ("eval", eval_xf)):
            _ = (
                data
                | f"Encode{name}" >> beam.Map(coder.encode)
                | f"Write{name}"
                >> beam.io.WriteToTFRecord(
                    str(examples_dir / f"Split-{name}" / "part"), file_name_suffix=".gz"
                )
            )
        _ = transform_fn | tft_beam.WriteTransformFn(transform_dir)
        raw_metadata_dir = os.path.join(transform_dir, tft.TFTransformOutput.RAW_METADATA_DIR)
        _ = metadata | tft_beam.WriteMetadata(raw_metadata_dir, pipeline)
    raw_dir = tmp / "raw_examples"
    for name, rows in (("train", train_rows), ("eval", eval_rows)):
        (raw_dir / f"Split-{name}").mkdir(parents=True)
        path = str(raw_dir / f"Split-{name}" / "data_tfrecord-00000-of-00001.gz")
        with tf.io.TFRecordWriter(path, options="GZIP") as writer:
            for row in rows:
                writer.write(serialize(row))
    return TftRun(transform_dir, str(examples_dir), str(raw_dir), train_rows, eval_rows)


def read_transformed(tft_run: TftRun, split: str) -> dict[str, np.ndarray]:
    """All transformed examples of a split, parsed with the TFT output feature spec."""
    spec = tft.TFTransformOutput(tft_run.transform_dir).transformed_feature_spec()
    files = tf.io.gfile.glob(os.path.join(tft_run.examples_dir, f"Split-{split}", "*"))
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(100_000)
    serialized = next(iter(dataset))
    return {k: v.numpy() for k, v in tf.io.parse_example(serialized, spec).items()}


def make_fn_args(
    tft_run: TftRun,
    out_dir: Path,
    custom_config: dict,
    base_model: str | None = None,
    train_steps: int | None = None,
) -> FnArgs:
    """Real FnArgs with a real DataAccessor over the raw TFRecords (Transform runs in place)."""
    examples = standard_artifacts.Examples()
    examples.uri = tft_run.raw_examples_dir
    examples.split_names = artifact_utils.encode_split_names(["train", "eval"])
    accessor = DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], ["test"]),
        record_batch_factory=None,
        data_view_decode_fn=None,
    )
    split_glob = os.path.join(tft_run.raw_examples_dir, "Split-{}", "*")
    return FnArgs(
        working_dir=str(out_dir / "working"),
        train_files=[split_glob.format("train")],
        eval_files=[split_glob.format("eval")],
        train_steps=train_steps,
        transform_graph_path=tft_run.transform_dir,
        transform_output=tft_run.transform_dir,
        data_accessor=accessor,
        serving_model_dir=str(out_dir / "serving_model"),
        model_run_dir=str(out_dir / "model_run"),
        base_model=base_model,
        custom_config=custom_config,
    )


TEST_CONFIG = {
    "city": "testville",
    "timezone": "Europe/London",
    "location_buckets": LOCATION_BUCKETS,
    "location_embedding_dim": 2,
    "batch_size": 64,
    "learning_rate": 0.02,
    "train_steps": 40,
    "eval_steps": 4,
    "early_stopping_patience": 3,
    "seed": 3,
}


@pytest.fixture(scope="session")
def tft_run(tmp_path_factory: pytest.TempPathFactory) -> TftRun:
    """A real TFT pass over 1200 train and 300 eval synthetic rows."""
    tmp = tmp_path_factory.mktemp("tft")
    return run_tft(
        tmp, synthetic_examples(1200, seed=1), synthetic_examples(300, seed=2), TEST_CONFIG
    )


@dataclass
class TrainedModel:
    """A model trained and exported by ``train_and_export`` (cold start)."""

    fn_args: FnArgs
    model: object  # the in-memory tf_keras model


@pytest.fixture(scope="session")
def cold_model(tft_run: TftRun, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """The real Trainer path: real DataAccessor, real training, real export."""
    from transforms.trainer import train_and_export

    fn_args = make_fn_args(tft_run, tmp_path_factory.mktemp("cold"), TEST_CONFIG)
    return TrainedModel(fn_args, train_and_export(fn_args))


# Counts: 4 approaches x 4 types x 168 hours = 2688 rows a week; more steps than events,
# since a count carries a whole hour of traffic and the log-rate starts far from it.
COUNTS_TEST_CONFIG = {
    **TEST_CONFIG,
    "data_kind": features.DATA_KIND_COUNTS,
    "batch_size": 256,
    "learning_rate": 0.05,
    "train_steps": 300,
}


@pytest.fixture(scope="session")
def counts_tft_run(tmp_path_factory: pytest.TempPathFactory) -> TftRun:
    """A real TFT pass over two weeks of train and one week of eval hourly counts."""
    tmp = tmp_path_factory.mktemp("tft_counts")
    return run_tft(
        tmp,
        synthetic_counts(2, seed=1),
        synthetic_counts(1, seed=2, first_week=2),
        COUNTS_TEST_CONFIG,
        COUNT_RAW_FEATURE_SPEC,
    )


@pytest.fixture(scope="session")
def counts_model(counts_tft_run: TftRun, tmp_path_factory: pytest.TempPathFactory) -> TrainedModel:
    """A counts model through the real Trainer path (DataAccessor, training, export)."""
    from transforms.trainer import train_and_export

    fn_args = make_fn_args(counts_tft_run, tmp_path_factory.mktemp("counts"), COUNTS_TEST_CONFIG)
    return TrainedModel(fn_args, train_and_export(fn_args))


def eval_metrics(fn_args: FnArgs, data_kind: str) -> dict[str, float]:
    """The FastEvaluator's overall metrics of the exported model on the eval split."""
    config = tfma.utils.update_eval_config_with_defaults(
        build_eval_config(EvaluationConfig(), data_kind), has_baseline=False, rubber_stamp=True
    )
    models = {spec.name: fn_args.serving_model_dir for spec in config.model_specs}
    overall = dict(compute_sliced_metrics(config, models, fn_args.eval_files))[()]
    return {key.name: float(value) for key, value in overall.items()}
