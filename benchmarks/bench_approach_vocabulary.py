"""Transform's cost of the approach vocabulary (``approaches.json``): with vs without.

Runs TFT's analyze-and-transform over an ExampleGen output (train analysed, train and
eval transformed and written as gzipped TFRecords, as the Transform component does),
once with ``preprocessing_fn`` as shipped and once with its ``tft.vocabulary`` call
replaced by a no-op, alternating, and prints the wall time of each run.

    python -m benchmarks.bench_approach_vocabulary --examples DIR [--repeats 2]

``DIR``: an Examples artifact dir holding ``Split-train/`` and ``Split-eval/``.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time
from unittest import mock

from transforms import keras_mode

keras_mode.ensure_legacy_keras()  # our package before TensorFlow: pins Keras 2

import apache_beam as beam  # noqa: E402
import tensorflow_transform as tft  # noqa: E402
import tensorflow_transform.beam as tft_beam  # noqa: E402
from tfx_bsl.public import tfxio  # noqa: E402

from pipeline.schema import curated_schema_path  # noqa: E402
from transforms import preprocessing  # noqa: E402


def _schema():
    from google.protobuf import text_format
    from tensorflow_metadata.proto.v0 import schema_pb2

    with open(curated_schema_path()) as f:
        return text_format.Parse(f.read(), schema_pb2.Schema())


def transform_once(examples_dir: str, work: str) -> float:
    """Seconds for one analyze-and-transform pass (Beam DirectRunner, in-process)."""
    schema = _schema()
    start = time.monotonic()
    with beam.Pipeline() as p, tft_beam.Context(temp_dir=os.path.join(work, "tmp")):
        sources = {}
        for split in ("train", "eval"):
            source = tfxio.TFExampleRecord(
                os.path.join(examples_dir, f"Split-{split}", "*"), schema=schema
            )
            sources[split] = (p | f"Read{split}" >> source.BeamSource(), source)
        train, train_source = sources["train"]
        fn = functools.partial(preprocessing.preprocessing_fn, custom_config={})
        (train_xf, _), transform_fn = (
            train,
            train_source.TensorAdapterConfig(),
        ) | tft_beam.AnalyzeAndTransformDataset(fn, output_record_batches=True)
        evaluation, eval_source = sources["eval"]
        eval_xf, _ = (
            (evaluation, eval_source.TensorAdapterConfig()),
            transform_fn,
        ) | tft_beam.TransformDataset(output_record_batches=True)
        for name, data in (("train", train_xf), ("eval", eval_xf)):
            _ = (
                data
                | f"Count{name}" >> beam.Map(lambda batch_and_keys: batch_and_keys[0].num_rows)
                | f"Write{name}" >> beam.io.WriteToText(os.path.join(work, f"rows-{name}"))
            )
        _ = transform_fn | tft_beam.WriteTransformFn(os.path.join(work, "transform_fn"))
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> None:
    """CLI: alternates runs with and without the vocabulary; prints each wall time."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="Examples artifact dir")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {"with vocabulary": [], "without": []}
    for _ in range(args.repeats):
        for label in times:
            with tempfile.TemporaryDirectory() as work:
                if label == "without":
                    with mock.patch.object(tft, "vocabulary"):
                        times[label].append(transform_once(args.examples, work))
                else:
                    times[label].append(transform_once(args.examples, work))
            print(f"{label}: {times[label][-1]:.1f} s", flush=True)
    for label, values in times.items():
        print(f"{label}: min {min(values):.1f} s, runs {[round(v, 1) for v in values]}")


if __name__ == "__main__":
    main()
