"""The Trainer's input path in memory vs streamed from local disk: examples/s and peak RSS.

Writes synthetic raw examples as gzipped TFRecords (what ExampleGen hands the Trainer)
in files of 1M rows, builds the real transform graph (``preprocessing_fn`` has no
analyzers, so a tiny TFT pass suffices), and for each row count runs the Trainer's own
functions in a fresh process per path: ``collect_rows``
(the load), then ``model.fit`` on ``training_dataset`` for ``--steps`` steps. First with
the whole budget (the in-memory path), then with ``memory_budget_mb`` a tenth of the
training rows' size (``--budget-fraction``; the streaming path, rows cached in bucket
files on local disk).
Prints load rows/s, training examples/s, examples/s of load + training, the process's
peak RSS and the rows it held at once, and the streaming / in-memory ratios, measured
in one run (the machine is shared: only ratios of the same run mean anything). The
in-memory process also loads the rows again with the reader before parallel parsing
(TFXIO's ``TensorFlowDataset``), checks it stores the same rows, and prints both
loads' wall and CPU seconds.

    python -m benchmarks.bench_trainer [--rows 1M,4M] [--batch-size 1024] [--steps 1000]
        [--budget-fraction 0.1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

from transforms import features, keras_mode

# TensorFlow, TFT and TFX are imported inside the functions: main() pins Keras 2 first.

ROWS_PER_FILE = 1_000_000
WARM_UP_STEPS = 20
MIB = 1 << 20


def write_raw_examples(n: int, path: str, seed: int = 0, chunk: int = 200_000) -> None:
    """``n`` raw tf.Examples with a day-hour dependent headway, one gzipped TFRecord file
    (encoded by tfx_bsl's C++ RecordBatch-to-Examples encoder, chunk by chunk)."""
    import pyarrow as pa
    import tensorflow as tf
    from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

    rng = np.random.default_rng(seed)
    encoder = RecordBatchToExamplesEncoder()
    first = 1_773_619_200 + seed * n

    def one_each(values: np.ndarray | list) -> pa.ListArray:
        return pa.ListArray.from_arrays(np.arange(len(values) + 1, dtype=np.int32), values)

    with tf.io.TFRecordWriter(path, options="GZIP") as writer:
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            day, hour = rng.integers(0, 7, m), rng.integers(0, 24, m)
            rate = 0.01 + 0.05 * ((hour >= 6) & (hour <= 21)) + 0.2 * np.isin(hour, (7, 8, 16, 17))
            where = rng.integers(0, 40, m)
            columns = {
                features.TIMESTAMP_UTC: pa.array(first + start + np.arange(m)),
                features.DAY_OF_WEEK: pa.array(day),
                features.HOUR: pa.array(hour),
                features.INTERSECTION: pa.array([f"X{w:03d}".encode() for w in where]),
                features.DIRECTION: pa.array(
                    [
                        features.DIRECTIONS[i].encode()
                        for i in rng.integers(0, len(features.DIRECTIONS), m)
                    ]
                ),
                features.VEHICLE_TYPE: pa.array(
                    [
                        features.VEHICLE_TYPES[i].encode()
                        for i in rng.integers(0, len(features.VEHICLE_TYPES), m)
                    ]
                ),
                features.SECONDS_TO_NEXT_VEHICLE: pa.array(
                    rng.exponential(1.0 / rate).astype(np.float32)
                ),
            }
            batch = pa.RecordBatch.from_arrays(
                [one_each(v) for v in columns.values()], list(columns)
            )
            for example in encoder.encode(batch):
                writer.write(example)


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


def gather_dataset(inputs: dict, labels: dict, batch_size: int, seed: int):
    """The Trainer's input before streaming, for reference: in-memory tensors, a seeded
    global permutation per pass, whole batches gathered in parallel."""
    import tensorflow as tf

    inputs = {k: tf.constant(v) for k, v in inputs.items()}
    labels = {k: tf.constant(v) for k, v in labels.items()}
    rows = len(next(iter(labels.values())))
    per_pass = rows // batch_size

    def pass_batches(pass_index):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(rows, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), pass_index])
        )
        batches = tf.reshape(order[: per_pass * batch_size], [-1, batch_size])
        return tf.data.Dataset.from_tensor_slices(batches)

    def gather(index):
        return (
            {k: tf.gather(v, index) for k, v in inputs.items()},
            {k: tf.gather(v, index) for k, v in labels.items()},
        )

    return (
        tf.data.Dataset.range(np.iinfo(np.int64).max)
        .flat_map(pass_batches)
        .map(gather, num_parallel_calls=tf.data.AUTOTUNE)
        .prefetch(tf.data.AUTOTUNE)
    )


def tfxio_read_batches(files: list[str], accessor, tft_output, data_kind: str, batch_size: int):
    """The Trainer's reader before parallel parsing, for reference: TFXIO's
    ``TensorFlowDataset`` (tf.Examples parsed on one thread), then the TFT graph."""
    import tensorflow as tf
    from tensorflow_metadata.proto.v0 import schema_pb2
    from tfx_bsl.public import tfxio

    from transforms.reading import split_labels
    from transforms.training_rows import RowBatch

    names = (*features.TRAINING_RAW_FEATURES_BY_KIND[data_kind], features.TIMESTAMP_UTC)
    schema = schema_pb2.Schema()
    schema.CopyFrom(tft_output.raw_metadata.schema)
    del schema.feature[:]
    schema.feature.extend(f for f in tft_output.raw_metadata.schema.feature if f.name in names)
    dataset = accessor.tf_dataset_factory(
        files,
        tfxio.TensorFlowDatasetOptions(batch_size=batch_size, num_epochs=1, shuffle=False),
        schema,
    )
    tft_layer = tft_output.transform_features_layer()

    def transform(raw):
        inputs, labels = split_labels(tft_layer(raw), data_kind)
        approach = tf.strings.join(
            [
                tf.reshape(raw[features.INTERSECTION], [-1]),
                tf.reshape(raw[features.DIRECTION], [-1]),
            ],
            separator="\x00",
        )
        return inputs, labels, tf.unique(approach).y, tf.reshape(raw[features.TIMESTAMP_UTC], [-1])

    transform = tf.autograph.experimental.do_not_convert(transform)
    for inputs, labels, approach, timestamps in dataset.map(transform).prefetch(1):
        yield RowBatch(
            {k: v.numpy() for k, v in inputs.items()},
            {k: v.numpy() for k, v in labels.items()},
            timestamps.numpy().astype(np.int64),
            {tuple(a.decode().split("\x00", 1)) for a in approach.numpy()},
        )


def _stored_rows(rows) -> np.ndarray:
    """Every stored training row, in bucket order (in-memory path)."""
    from transforms.row_order import BUCKETS

    return np.concatenate([rows.store.bucket(b) for b in range(BUCKETS)])


def timed_fit(model, data, steps: int) -> float:
    """Seconds for ``steps`` training steps, after ``WARM_UP_STEPS`` untimed ones."""
    model.fit(data, epochs=1, steps_per_epoch=WARM_UP_STEPS, verbose=0)
    start = time.perf_counter()
    model.fit(data, epochs=1, steps_per_epoch=steps, verbose=0)
    return time.perf_counter() - start


def measure(files: list[str], graph: str, budget_mb: float, batch_size: int, steps: int) -> dict:
    """One path in this process: load seconds, fit seconds, what was held, peak RSS."""
    import tensorflow_transform as tft
    from tfx.components.trainer.fn_args_utils import DataAccessor
    from tfx.components.util import tfxio_utils
    from tfx.types import artifact_utils, standard_artifacts

    from transforms import memory_budget
    from transforms.model import HParams, build_model
    from transforms.reading import load_batch_rows
    from transforms.row_store import IN_MEMORY
    from transforms.trainer import collect_batches, collect_rows, training_dataset

    hparams = HParams(
        batch_size=batch_size,
        seed=1,
        train_steps=steps + WARM_UP_STEPS,
        memory_budget_mb=budget_mb,
    )
    tft_output = tft.TFTransformOutput(graph)
    examples = standard_artifacts.Examples()
    examples.uri = os.path.dirname(os.path.dirname(files[0]))
    examples.split_names = artifact_utils.encode_split_names(["train"])
    accessor = DataAccessor(
        tf_dataset_factory=tfxio_utils.get_tf_dataset_factory_from_artifact([examples], ["b"]),
        record_batch_factory=None,
        data_view_decode_fn=None,
    )
    with tempfile.TemporaryDirectory(prefix="trainer-rows-") as spill_dir:
        start, cpu = time.perf_counter(), time.process_time()
        rows, _ = collect_rows(files, graph, hparams, spill_dir)
        load_seconds = time.perf_counter() - start
        load_cpu_seconds = time.process_time() - cpu
        data = training_dataset(rows.store, batch_size, hparams.seed)
        fit_seconds = timed_fit(build_model(hparams, approaches=rows.approach_init), data, steps)
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tfxio_seconds = tfxio_cpu_seconds = 0.0
        if rows.store.path == IN_MEMORY:  # the reader before, same rows (after the peak RSS)
            start, cpu = time.perf_counter(), time.process_time()
            budget = memory_budget.memory_budget_bytes(budget_mb)
            reader = tfxio_read_batches(
                files, accessor, tft_output, hparams.data_kind, load_batch_rows(budget)
            )
            before = collect_batches(reader, hparams, spill_dir)
            tfxio_seconds = time.perf_counter() - start
            tfxio_cpu_seconds = time.process_time() - cpu
            if _stored_rows(before).tobytes() != _stored_rows(rows).tobytes():
                raise AssertionError("the TFXIO reader stored other rows than read_batches")
            del before
        gather_seconds = 0.0
        if rows.store.path == IN_MEMORY:  # after the peak RSS: it copies the rows
            everything = _stored_rows(rows)
            reference = gather_dataset(*rows.store.layout.columns(everything), batch_size, 1)
            model = build_model(hparams, approaches=rows.approach_init)
            gather_seconds = timed_fit(model, reference, steps)
    return {
        **rows.record(),
        "load_seconds": load_seconds,
        "load_cpu_seconds": load_cpu_seconds,
        "tfxio_load_seconds": tfxio_seconds,
        "tfxio_load_cpu_seconds": tfxio_cpu_seconds,
        "fit_seconds": fit_seconds,
        "gather_fit_seconds": gather_seconds,
        "peak_rss_mb": peak_kb / 1024,
    }


def _run_child(files: list[str], graph: str, budget_mb: float, args) -> dict:
    """``measure`` in a fresh process (its own peak RSS), as JSON on the last line."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_trainer",
        "--child",
        json.dumps({"files": files, "graph": graph, "budget_mb": budget_mb}),
        "--batch-size",
        str(args.batch_size),
        "--steps",
        str(args.steps),
    ]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _rows(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(float(text.rstrip("KM")) * scale)


def main(argv: list[str] | None = None) -> None:
    """Writes the data, runs both paths per row count, prints the table."""
    keras_mode.use_legacy_keras()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1M,4M", help="comma-separated row counts")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument(
        "--budget-fraction",
        type=float,
        default=0.1,
        help="the streaming run's budget, a fraction of the training rows' size (< 1)",
    )
    parser.add_argument("--work", default="", help="directory for the data (default: a temp dir)")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 0 < args.budget_fraction < 1:
        parser.error("--budget-fraction must be between 0 and 1 (the streaming path)")
    if args.child:
        job = json.loads(args.child)
        result = measure(job["files"], job["graph"], job["budget_mb"], args.batch_size, args.steps)
        print(json.dumps(result))
        return

    sizes = [_rows(r) for r in args.rows.split(",")]
    with tempfile.TemporaryDirectory(dir=args.work or None) as tmp:
        split_dir = os.path.join(tmp, "Split-train")
        os.makedirs(split_dir)
        files = []
        for index, start in enumerate(range(0, max(sizes), ROWS_PER_FILE)):
            files.append(os.path.join(split_dir, f"part-{index:05d}.gz"))
            write_raw_examples(min(ROWS_PER_FILE, max(sizes) - start), files[-1], seed=index)
        graph = transform_graph(os.path.join(tmp, "graph"))
        print("rows  path  load_rows/s  train_examples/s  total_examples/s  peak_RSS_MB  held_rows")
        for size in sizes:
            mine = files[: -(-size // ROWS_PER_FILE)]
            memory = _run_child(mine, graph, 0, args)
            budget_mb = memory["train_bytes"] * args.budget_fraction / MIB
            streamed = _run_child(mine, graph, budget_mb, args)
            trained = args.steps * args.batch_size
            rates = {}
            for result in (memory, streamed):
                load = result["rows"] / result["load_seconds"]
                train = trained / result["fit_seconds"]
                total = trained / (result["fit_seconds"] + result["load_seconds"])
                rates[result["path"]] = (load, train, total)
                print(
                    f"{result['rows']:,}  {result['path']}  {load:,.0f}  {train:,.0f}  "
                    f"{total:,.0f}  {result['peak_rss_mb']:,.0f}  "
                    f"{result['peak_rows_in_memory']:,}"
                )
            ratios = [s / m for s, m in zip(rates["streaming"], rates["in_memory"], strict=True)]
            print(
                f"{memory['rows']:,}  streaming / in-memory: load {ratios[0]:.2f}, "
                f"training {ratios[1]:.2f}, total {ratios[2]:.2f}; peak RSS "
                f"{streamed['peak_rss_mb'] / memory['peak_rss_mb']:.2f}"
            )
            print(
                f"{memory['rows']:,}  load, TFXIO reader before this change (same rows, "
                f"checked): {memory['rows'] / memory['tfxio_load_seconds']:,.0f} rows/s, "
                f"{memory['tfxio_load_cpu_seconds']:.1f} CPU s; read_batches "
                f"{memory['rows'] / memory['load_seconds']:,.0f} rows/s, "
                f"{memory['load_cpu_seconds']:.1f} CPU s; wall speed-up "
                f"{memory['tfxio_load_seconds'] / memory['load_seconds']:.2f}, CPU "
                f"{memory['tfxio_load_cpu_seconds'] / memory['load_cpu_seconds']:.2f}"
            )
            gather = trained / memory["gather_fit_seconds"]
            print(
                f"{memory['rows']:,}  reference, global permutation + gather (the input before "
                f"streaming): {gather:,.0f} training examples/s; in-memory / it "
                f"{rates['in_memory'][1] / gather:.2f}"
            )


if __name__ == "__main__":
    main()
