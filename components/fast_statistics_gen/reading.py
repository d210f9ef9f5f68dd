"""A split's tf.Examples read as Arrow RecordBatches, the way the stock executor sees them.

``tf.data`` reads the GZIP TFRecords in large batches (reading and decompression run in
tf.data's threads, ahead of the consumer) and tfx_bsl's ``ExamplesToRecordBatchDecoder``
decodes them without a schema, as the stock executor's TFXIO source does, so the Arrow
types are the stock ones; ``DECODE_THREADS`` batches at a time, in order.
"""

from __future__ import annotations

import collections
import concurrent.futures
import threading
from collections.abc import Iterator

import pyarrow as pa
import tensorflow as tf
from tfx import types
from tfx.types import artifact_utils
from tfx.utils import io_utils
from tfx_bsl.arrow import table_util
from tfx_bsl.coders import example_coder

READ_BATCH_SIZE = 65_536  # rows per decoded batch of the streaming path
DECODE_THREADS = 2  # batches decoded at once


def split_files(examples: types.Artifact, split: str) -> list[str]:
    """The data files of one split of an Examples artifact."""
    uri = artifact_utils.get_split_uri([examples], split)
    return sorted(tf.io.gfile.glob(io_utils.all_files_pattern(uri)))


def read_batches(
    files: list[str], batch_size: int, threads: int = DECODE_THREADS
) -> Iterator[pa.RecordBatch]:
    """The examples of ``files`` (GZIP TFRecords) as RecordBatches of ``batch_size`` rows,
    in file order, decoded by ``threads`` threads at once.

    tfx_bsl's ``DecodeBatch`` releases the GIL, so the decoding threads, tf.data's reader
    and the consumer (TFDV's combiners) share the machine's cores; at most ``threads``
    batches wait decoded or decoding ahead of the consumer.
    """
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(batch_size)
    local = threading.local()

    def decode(serialized: list[bytes]) -> pa.RecordBatch:
        if not hasattr(local, "decoder"):  # one decoder per thread
            local.decoder = example_coder.ExamplesToRecordBatchDecoder()
        return local.decoder.DecodeBatch(serialized)

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        pending: collections.deque[concurrent.futures.Future] = collections.deque()
        for batch in dataset.prefetch(2):
            pending.append(pool.submit(decode, batch.numpy().tolist()))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def read_record_batch(files: list[str], threads: int = DECODE_THREADS) -> pa.RecordBatch:
    """All examples of ``files`` as one RecordBatch (the in-memory path)."""
    batches = [b for b in read_batches(files, READ_BATCH_SIZE, threads) if b.num_rows]
    if len(batches) == 1:
        return batches[0]
    # Batches decoded without a schema differ in columns when a feature is absent from
    # every row of one batch; tfx_bsl's merge (the one TFDV's combiner uses) aligns them.
    return table_util.MergeRecordBatches(batches)
