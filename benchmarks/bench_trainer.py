"""Trainer input pipeline vs in-memory tensors: training throughput of the same model.

Writes synthetic transformed examples as gzipped TFRecords (what Transform hands the
Trainer), reads them through a TFX DataAccessor exactly as ``run_fn`` does
(``transforms.trainer.input_dataset``), and times ``model.fit`` against the same model
fed in-memory tensors. Prints examples/s of both and their ratio, measured in one run.

    python -m benchmarks.bench_trainer [--examples 20000] [--batch-size 1024] [--steps 60]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from transforms import keras_mode

keras_mode.ensure_legacy_keras()  # our package before TensorFlow: pins Keras 2

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
from tfx.components.trainer.fn_args_utils import DataAccessor  # noqa: E402
from tfx.components.util import tfxio_utils  # noqa: E402
from tfx.types import artifact_utils, standard_artifacts  # noqa: E402

from transforms import features  # noqa: E402
from transforms.model import HParams, build_model  # noqa: E402
from transforms.preprocessing import day_hour_bucket  # noqa: E402
from transforms.trainer import input_dataset, split_labels  # noqa: E402

TRANSFORMED_SPEC = {
    features.DAY_HOUR_CROSS_XF: tf.io.FixedLenFeature([], tf.int64),
    features.INTERSECTION_XF: tf.io.FixedLenFeature([], tf.int64),
    features.DIRECTION_XF: tf.io.FixedLenFeature([], tf.int64),
    features.HEADWAY_LABEL_XF: tf.io.FixedLenFeature([], tf.float32),
    features.VEHICLE_TYPE_LABEL_XF: tf.io.FixedLenFeature([], tf.int64),
}


def synthetic_transformed(n: int, hparams: HParams, seed: int = 0) -> dict[str, np.ndarray]:
    """Transformed features with a day-hour dependent headway, as Transform would emit."""
    rng = np.random.default_rng(seed)
    day, hour = rng.integers(0, 7, n), rng.integers(0, 24, n)
    rate = 0.01 + 0.05 * ((hour >= 6) & (hour <= 21)) + 0.2 * np.isin(hour, (7, 8, 16, 17))
    return {
        features.DAY_HOUR_CROSS_XF: day_hour_bucket(
            tf.constant(day), tf.constant(hour), hparams.cross_buckets
        ).numpy(),
        features.INTERSECTION_XF: rng.integers(0, hparams.location_buckets, n),
        features.DIRECTION_XF: rng.integers(0, len(features.DIRECTIONS), n),
        features.HEADWAY_LABEL_XF: rng.exponential(1.0 / rate).astype(np.float32),
        features.VEHICLE_TYPE_LABEL_XF: rng.integers(0, len(features.VEHICLE_TYPES), n),
    }


def write_tfrecords(columns: dict[str, np.ndarray], path: str) -> None:
    """One gzipped TFRecord file of tf.Examples."""
    n = len(columns[features.DAY_HOUR_CROSS_XF])
    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for i in range(n):
            feature = {}
            for key, values in columns.items():
                value = values[i]
                if np.issubdtype(values.dtype, np.floating):
                    feature[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
                else:
                    feature[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


def timed_fit(model, data, steps: int, **kwargs) -> float:
    """Seconds for ``steps`` training steps, after one untimed warm-up epoch."""
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, **kwargs)
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0, **kwargs)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Runs both measurements and prints throughputs and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=60)
    args = parser.parse_args(argv)
    hparams = HParams(batch_size=args.batch_size, seed=1)
    columns = synthetic_transformed(args.examples, hparams)

    with tempfile.TemporaryDirectory() as tmp:
        split_dir = os.path.join(tmp, "Split-train")
        os.makedirs(split_dir)
        write_tfrecords(columns, os.path.join(split_dir, "part-00000.gz"))
        examples = standard_artifacts.Examples()
        examples.uri = tmp
        examples.split_names = artifact_utils.encode_split_names(["train"])
        accessor = DataAccessor(
            tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact(
                [examples], ["bench"]
            ),
            record_batch_factory=None,
            data_view_decode_fn=None,
        )
        schema = tft.DatasetMetadata.from_feature_spec(TRANSFORMED_SPEC).schema
        dataset = input_dataset(
            [os.path.join(split_dir, "*")], accessor, schema, args.batch_size, seed=1
        )
        tf.keras.utils.set_random_seed(1)
        record_seconds = timed_fit(build_model(hparams), dataset, args.steps)

    inputs, labels = split_labels({k: tf.constant(v) for k, v in columns.items()})
    in_memory = tf.data.Dataset.from_tensor_slices((inputs, labels))
    in_memory = in_memory.shuffle(args.examples, seed=1).repeat().batch(args.batch_size)
    tf.keras.utils.set_random_seed(1)
    memory_seconds = timed_fit(build_model(hparams), in_memory.prefetch(2), args.steps)

    trained = args.steps * args.batch_size
    record_rate, memory_rate = trained / record_seconds, trained / memory_seconds
    print(f"examples={args.examples} batch_size={args.batch_size} steps={args.steps}")
    print(f"trainer_input (TFRecord via DataAccessor): {record_rate:,.0f} examples/s")
    print(f"in_memory tensors:                          {memory_rate:,.0f} examples/s")
    print(f"ratio trainer_input / in_memory: {record_rate / memory_rate:.2f}")


if __name__ == "__main__":
    main()
