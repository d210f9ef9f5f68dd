"""Block-framed TFRecord files are read back by tf.data."""

from __future__ import annotations

import glob

import apache_beam as beam
import tensorflow as tf

from components.traffic_example_gen.tfrecords import WriteTFRecordBlocks, masked_crc32c


def test_masked_crc_matches_beam():
    from apache_beam.io.tfrecordio import _TFRecordUtil

    for data in (b"", b"x", bytes(range(256)) * 3):
        assert masked_crc32c(data) == _TFRecordUtil._masked_crc32c(data)


def test_blocks_round_trip_through_gzip_tfrecords(tmp_path):
    blocks = [[b"a", b"bb"], [], [bytes(range(256)) * 40], [b"c%d" % i for i in range(100)]]
    with beam.Pipeline() as pipeline:
        _ = pipeline | beam.Create(blocks) | WriteTFRecordBlocks(str(tmp_path / "data"))
    files = glob.glob(str(tmp_path / "data-*.gz"))
    assert files
    records = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    assert sorted(records) == sorted(r for block in blocks for r in block)
