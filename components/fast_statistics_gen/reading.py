"""A split's tf.Examples read as Arrow RecordBatches, the way the stock executor sees them.

``tf.data`` reads the GZIP TFRecords in large batches (reading and decompression run in
tf.data's threads, ahead of the consumer) and tfx_bsl's ``ExamplesToRecordBatchDecoder``
decodes them without a schema, as the stock executor's TFXIO source does, so the Arrow
types are the stock ones.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import tensorflow as tf
from tfx import types
from tfx.types import artifact_utils
from tfx.utils import io_utils
from tfx_bsl.arrow import table_util
from tfx_bsl.coders import example_coder

READ_BATCH_SIZE = 65_536  # rows per decoded batch of the streaming path


def split_files(examples: types.Artifact, split: str) -> list[str]:
    """The data files of one split of an Examples artifact."""
    uri = artifact_utils.get_split_uri([examples], split)
    return sorted(tf.io.gfile.glob(io_utils.all_files_pattern(uri)))


def read_batches(files: list[str], batch_size: int) -> Iterator[pa.RecordBatch]:
    """The examples of ``files`` (GZIP TFRecords) as RecordBatches of ``batch_size`` rows."""
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(batch_size)
    for batch in dataset.prefetch(2):
        yield decoder.DecodeBatch(batch.numpy().tolist())


def read_record_batch(files: list[str]) -> pa.RecordBatch:
    """All examples of ``files`` as one RecordBatch (the in-memory path)."""
    batches = [b for b in read_batches(files, READ_BATCH_SIZE) if b.num_rows]
    if len(batches) == 1:
        return batches[0]
    # Batches decoded without a schema differ in columns when a feature is absent from
    # every row of one batch; tfx_bsl's merge (the one TFDV's combiner uses) aligns them.
    return table_util.MergeRecordBatches(batches)
