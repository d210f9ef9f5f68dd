"""The train split parsed and transformed by a Beam job: the Trainer's reading on a cluster.

On a cluster's Beam runner (the ``dataflow``, ``flink``, ``spark`` and ``portable``
profiles; ``components/scale_out.py``), a train split whose decoded size is over the
memory budget is not parsed in the Trainer's own process: ``transform_on_beam`` runs a
Beam job that reads the examples on the runner's workers, applies
``reading.batch_transform`` (the Trainer's own function of a batch: the same parsing
and TFT graph) to batches of at most the Trainer's load batch, and writes each batch's
model inputs, labels, UTC times and approaches as one record (a numpy ``.npz``) of
TFRecord files in a directory every worker and the Trainer can reach (under the model
run dir). Beam's file sink writes each record once, even when a bundle is retried. The
Trainer then reads those records one at a time (``read_transformed``) into
``training_rows.collect``, which hashes, sums and stores the rows (in memory, or in
bucket files on local disk) as on the in-process path. ``collect`` depends on neither
the order nor the batching of its input, so the model is the same, bit for bit
(``tests/transforms/test_beam_rows.py``). ``training_input.json`` records the reader.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence

import apache_beam as beam
import numpy as np
import tensorflow as tf
from apache_beam.options.pipeline_options import PipelineOptions

from components import scale_out
from transforms import reading
from transforms.training_rows import RowBatch

IN_PROCESS = "in_process"  # read_batches in the Trainer's process
BEAM = "beam"  # transform_on_beam, then read_transformed
ROWS_DIR = "transformed_rows"  # under the model run dir, removed after the rows are read
_INPUT, _LABEL = "input.", "label."
_APPROACHES, _TIMESTAMPS = "approaches", "timestamps"


def choose_reader(
    file_pattern: Sequence[str], budget_bytes: int, beam_pipeline_args: Sequence[str]
) -> str:
    """``BEAM`` for a split decoded over ``budget_bytes`` on a cluster's runner, else
    ``IN_PROCESS`` (the rule of StatisticsGen's and the Evaluator's Beam paths)."""
    if not beam_pipeline_args or not scale_out.runs_on_a_cluster(list(beam_pipeline_args)):
        return IN_PROCESS
    size = scale_out.decoded_bytes(scale_out.input_bytes(reading.matching_files(file_pattern)))
    return BEAM if size > budget_bytes else IN_PROCESS


def encode(batch: RowBatch) -> bytes:
    """One record: a batch's columns as an ``.npz`` (no pickles)."""
    arrays = {f"{_INPUT}{k}": v for k, v in batch.inputs.items()}
    arrays.update({f"{_LABEL}{k}": v for k, v in batch.labels.items()})
    approaches = [reading.APPROACH_SEPARATOR.join(a).encode() for a in sorted(batch.approaches)]
    arrays[_APPROACHES] = np.array(approaches, dtype=bytes)
    arrays[_TIMESTAMPS] = batch.timestamps
    out = io.BytesIO()
    np.savez(out, **arrays)
    return out.getvalue()


def decode(record: bytes) -> RowBatch:
    """The ``RowBatch`` of one record of ``encode``."""
    with np.load(io.BytesIO(record), allow_pickle=False) as arrays:
        columns = {name: arrays[name] for name in arrays.files}
    return reading.row_batch(
        {k[len(_INPUT) :]: v for k, v in columns.items() if k.startswith(_INPUT)},
        {k[len(_LABEL) :]: v for k, v in columns.items() if k.startswith(_LABEL)},
        columns[_APPROACHES],
        columns[_TIMESTAMPS],
    )


class _TransformBatches(beam.DoFn):
    """Serialized tf.Examples (a list) -> one ``encode``d record of their rows."""

    def __init__(self, transform_graph: str, data_kind: str) -> None:
        self._transform_graph = transform_graph
        self._data_kind = data_kind
        self._transform = None

    def setup(self) -> None:
        import tensorflow_transform as tft

        transform = reading.batch_transform(
            tft.TFTransformOutput(self._transform_graph), self._data_kind
        )
        # A graph function, as tf.data runs it in the Trainer's process.
        self._transform = tf.function(
            transform, input_signature=[tf.TensorSpec([None], tf.string)], autograph=False
        )

    def process(self, serialized: list[bytes]) -> Iterator[bytes]:
        outputs = self._transform(tf.constant(serialized, tf.string))
        yield encode(reading.row_batch(*tf.nest.map_structure(lambda t: t.numpy(), outputs)))


def transform_on_beam(
    file_pattern: Sequence[str],
    transform_graph: str,
    data_kind: str,
    batch_size: int,
    out_dir: str,
    beam_pipeline_args: Sequence[str],
) -> list[str]:
    """Runs the Beam job (see the module docstring); returns the record files written."""
    files = reading.matching_files(file_pattern)
    if not files:
        raise ValueError(f"no example files match {list(file_pattern)}")
    prefix = os.path.join(out_dir, "rows")
    with beam.Pipeline(options=PipelineOptions(list(beam_pipeline_args))) as pipeline:
        _ = (
            pipeline
            | "ExampleFiles" >> beam.Create(files)
            | "ReadExamples" >> beam.io.ReadAllFromTFRecord(coder=beam.coders.BytesCoder())
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=batch_size)
            | "ParseAndTransform" >> beam.ParDo(_TransformBatches(transform_graph, data_kind))
            | "WriteRows" >> beam.io.WriteToTFRecord(prefix, file_name_suffix=".tfrecord")
        )
    return sorted(tf.io.gfile.glob(f"{prefix}*.tfrecord"))


def read_transformed(files: Sequence[str]) -> Iterator[RowBatch]:
    """The batches ``transform_on_beam`` wrote, one record at a time."""
    for record in tf.data.TFRecordDataset(list(files)).as_numpy_iterator():
        yield decode(record)
