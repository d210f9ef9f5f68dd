"""The numpy tf.Example framer agrees with tfx_bsl's encoder and TFRecord readers; the
block sink writes files tf.data reads."""

from __future__ import annotations

import glob

import apache_beam as beam
import numpy as np
import tensorflow as tf

from components.traffic_example_gen.chunks import NO_LANE, Chunk
from components.traffic_example_gen.example_wire import (
    ExampleFramer,
    WriteFramedTFRecords,
    frame_records,
    varints,
)
from tests.components.traffic_example_gen import tfx_bsl_reference as encoding
from transforms import features

INTERSECTIONS = np.array(["A", "LDN-0009", "Zürich-Ost", "x" * 300], dtype=object)


def _random_rows(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    lane = rng.integers(-5, 2**40, n)
    lane[rng.random(n) < 0.3] = NO_LANE
    lane[:3] = [np.iinfo(np.int64).max, -1, NO_LANE + 1]
    speed = rng.normal(30, 10, n)
    speed[rng.random(n) < 0.3] = np.nan
    chunk = Chunk(
        ts_us=rng.integers(-2_000_000_000_000_000, 7_000_000_000_000_000, n),
        vehicle_type=rng.integers(0, len(features.VEHICLE_TYPES), n).astype(np.int8),
        lane=lane,
        speed=speed,
        day_of_week=rng.integers(0, 7, n).astype(np.int8),
        hour=rng.integers(0, 24, n).astype(np.int8),
        is_eval=np.zeros(n, dtype=bool),
        file_index=np.zeros(n, dtype=np.int32),
        row=np.arange(n, dtype=np.int64),
    )
    intersection = rng.integers(0, len(INTERSECTIONS), n).astype(np.int32)
    direction = rng.integers(0, len(features.DIRECTIONS), n).astype(np.int8)
    return intersection, direction, chunk, rng.exponential(10, n)


def _read(path) -> list[tf.train.Example]:
    return [tf.train.Example.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]


def test_framed_examples_parse_as_tfx_bsl_encodes_them(tmp_path):
    intersection, direction, chunk, labels = _random_rows(3000)
    path = tmp_path / "framed.tfrecord"
    path.write_bytes(ExampleFramer(INTERSECTIONS).frame(intersection, direction, chunk, labels))
    got = _read(path)  # TFRecordDataset checks both CRCs of every record
    batch = encoding.to_record_batch(
        INTERSECTIONS[intersection], np.asarray(features.DIRECTIONS)[direction], chunk, labels
    )
    expected = [tf.train.Example.FromString(e) for e in encoding._ENCODER.encode(batch)]
    assert len(got) == len(expected) == len(chunk)
    mismatched = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert mismatched == [], (
        f"{len(mismatched)} of {len(chunk)} rows differ, first {mismatched[:5]}"
    )
    assert (chunk.lane == NO_LANE).sum() > 500 and np.isnan(chunk.speed).sum() > 500
    absent = int(np.flatnonzero(chunk.lane == NO_LANE)[0])
    assert got[absent].features.feature[features.LANE].WhichOneof("kind") is None


def test_blocks_concatenate_and_empty_input_frames_nothing(tmp_path):
    intersection, direction, chunk, labels = _random_rows(10, seed=1)
    framer = ExampleFramer(INTERSECTIONS)
    whole = framer.frame(intersection, direction, chunk, labels)
    halves = b"".join(
        framer.frame(intersection[s], direction[s], chunk.take(s), labels[s])
        for s in (slice(0, 4), slice(4, 10))
    )
    assert halves == whole
    assert framer.frame(intersection[:0], direction[:0], chunk.take(slice(0, 0)), labels[:0]) == b""


def test_varints_match_protobuf():
    values = np.array([0, 1, 127, 128, 300, 2**63 - 1, -1, -(2**63)], dtype=np.int64)
    piece = varints(values)
    for value, row, length in zip(values, piece.matrix, piece.lengths, strict=True):
        feature = tf.train.Feature(int64_list=tf.train.Int64List(value=[int(value)]))
        # Feature.int64_list = 0x1A len, Int64List.value (packed) = 0x0A len, varint
        assert bytes(row[:length]) == feature.SerializeToString()[4:]


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


def test_frame_records_reads_back_and_equals_tensorflows_writer(tmp_path):
    records = [b"", b"a", bytes(range(256)) * 40, b"x" * 127, b"y" * 128, b"z" * 70_000]
    path = tmp_path / "framed.tfrecord"
    path.write_bytes(frame_records(records))
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == records
    assert frame_records(records) == _framed_by_tensorflow(records, tmp_path / "tf.tfrecord")
    assert frame_records([]) == b""
