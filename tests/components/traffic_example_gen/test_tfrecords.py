"""Blocks of TFRecord frames written by the sink are read back by tf.data."""

from __future__ import annotations

import glob

import apache_beam as beam
import tensorflow as tf

from components.traffic_example_gen.tfrecords import WriteFramedTFRecords


def _framed_by_tensorflow(records: list[bytes], path) -> bytes:
    """The frames TensorFlow's own writer makes for ``records`` (uncompressed)."""
    with tf.io.TFRecordWriter(str(path)) as writer:
        for record in records:
            writer.write(record)
    return path.read_bytes()


def test_blocks_round_trip_through_gzip_tfrecords(tmp_path):
    blocks = [[b"a", b"bb"], [], [bytes(range(256)) * 40], [b"c%d" % i for i in range(100)]]
    framed = [_framed_by_tensorflow(b, tmp_path / f"block{i}") for i, b in enumerate(blocks)]
    with beam.Pipeline() as pipeline:
        _ = pipeline | beam.Create(framed) | WriteFramedTFRecords(str(tmp_path / "data"))
    files = glob.glob(str(tmp_path / "data-*.gz"))
    assert files
    records = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    assert sorted(records) == sorted(r for block in blocks for r in block)
