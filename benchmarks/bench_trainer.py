"""Trainer input path vs in-memory tensors: training throughput of the same model.

The Trainer reads raw examples once through a TFX DataAccessor, applies the TFT graph in
large batches (``transforms.trainer.load_split``) and trains from the in-memory columns
(``transforms.trainer.training_dataset``). This benchmark writes synthetic raw examples
as gzipped TFRecords (what ExampleGen hands the Trainer), builds the real transform graph
(``preprocessing_fn`` has no analyzers, so a tiny TFT pass suffices), and prints:
load rows/s; training examples/s of the Trainer's dataset and of a plain in-memory
``from_tensor_slices`` dataset of the same tensors; and the effective ratio for a run of
``--steps`` steps, load included, measured in one run.

    python -m benchmarks.bench_trainer [--examples 300000] [--batch-size 1024] [--steps 1000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

from transforms import features, keras_mode

# TensorFlow, TFT and TFX are imported inside the functions: main() pins Keras 2 first.


def write_raw_examples(n: int, path: str, seed: int = 0) -> None:
    """``n`` raw tf.Examples with a day-hour dependent headway, one gzipped TFRecord file."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    day, hour = rng.integers(0, 7, n), rng.integers(0, 24, n)
    rate = 0.01 + 0.05 * ((hour >= 6) & (hour <= 21)) + 0.2 * np.isin(hour, (7, 8, 16, 17))
    headway = rng.exponential(1.0 / rate)
    kinds = rng.integers(0, len(features.VEHICLE_TYPES), n)
    where = rng.integers(0, 40, n)
    heading = rng.integers(0, len(features.DIRECTIONS), n)

    def int64(v):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v)]))

    def text(v):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v.encode()]))

    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for i in range(n):
            feature = {
                features.TIMESTAMP_UTC: int64(1_773_619_200 + i),
                features.DAY_OF_WEEK: int64(day[i]),
                features.HOUR: int64(hour[i]),
                features.INTERSECTION: text(f"X{where[i]:03d}"),
                features.DIRECTION: text(features.DIRECTIONS[heading[i]]),
                features.VEHICLE_TYPE: text(features.VEHICLE_TYPES[kinds[i]]),
                features.SECONDS_TO_NEXT_VEHICLE: tf.train.Feature(
                    float_list=tf.train.FloatList(value=[headway[i]])
                ),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


def transform_graph(out_dir: str) -> str:
    """The real transform graph of ``preprocessing_fn`` over the curated raw schema."""
    import apache_beam as beam
    import tensorflow_transform as tft
    import tensorflow_transform.beam as tft_beam
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx.utils import io_utils

    from pipeline.schema import curated_schema_path
    from transforms.preprocessing import preprocessing_fn

    schema = io_utils.parse_pbtxt_file(curated_schema_path(), schema_pb2.Schema())
    metadata = tft.DatasetMetadata(schema)
    with beam.Pipeline() as pipeline, tft_beam.Context(temp_dir=os.path.join(out_dir, "tmp")):
        empty = pipeline | beam.Create([], reshuffle=False)
        transform_fn = (empty, metadata) | tft_beam.AnalyzeDataset(preprocessing_fn)
        _ = transform_fn | tft_beam.WriteTransformFn(out_dir)
        raw_dir = os.path.join(out_dir, tft.TFTransformOutput.RAW_METADATA_DIR)
        _ = metadata | tft_beam.WriteMetadata(raw_dir, pipeline)
    return out_dir


def timed_fit(model, data, steps: int) -> float:
    """Seconds for ``steps`` training steps, after an untimed warm-up of 20 steps."""
    model.fit(data, epochs=1, steps_per_epoch=20, verbose=0)
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    """Runs the measurements and prints throughputs and their ratios."""
    keras_mode.use_legacy_keras()
    import tensorflow as tf
    import tensorflow_transform as tft
    from tfx.components.trainer.fn_args_utils import DataAccessor
    from tfx.components.util import tfxio_utils
    from tfx.types import artifact_utils, standard_artifacts

    from transforms.model import HParams, build_model
    from transforms.trainer import load_split, training_dataset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300_000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=1000)
    args = parser.parse_args(argv)
    hparams = HParams(batch_size=args.batch_size, seed=1)

    with tempfile.TemporaryDirectory() as tmp:
        split_dir = os.path.join(tmp, "Split-train")
        os.makedirs(split_dir)
        write_raw_examples(args.examples, os.path.join(split_dir, "part-00000.gz"))
        tft_output = tft.TFTransformOutput(transform_graph(os.path.join(tmp, "graph")))
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
        start = time.perf_counter()
        split = load_split([os.path.join(split_dir, "*")], accessor, tft_output)
        load_seconds = time.perf_counter() - start

    tf.keras.utils.set_random_seed(1)
    ours = timed_fit(build_model(hparams), training_dataset(split, args.batch_size, 1), args.steps)
    plain = tf.data.Dataset.from_tensor_slices((split.inputs, split.labels))
    plain = plain.shuffle(split.rows, seed=1).repeat().batch(args.batch_size).prefetch(2)
    tf.keras.utils.set_random_seed(1)
    memory = timed_fit(build_model(hparams), plain, args.steps)

    trained = args.steps * args.batch_size
    print(f"examples={split.rows} batch_size={args.batch_size} steps={args.steps}")
    print(f"load (DataAccessor + TFT graph):   {split.rows / load_seconds:,.0f} rows/s")
    print(f"training_dataset (ours):           {trained / ours:,.0f} examples/s")
    print(f"in-memory from_tensor_slices:      {trained / memory:,.0f} examples/s")
    print(f"ratio ours / in-memory, training only:  {memory / ours:.2f}")
    print(f"ratio ours / in-memory, load included:  {memory / (ours + load_seconds):.2f}")


if __name__ == "__main__":
    main()
