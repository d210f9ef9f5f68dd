"""Writes labeled slabs as tf.Examples in GZIP TFRecord files (the output stage).

``ExampleFramer`` serializes rows as TFRecord-framed tf.Examples, vectorised with numpy.

Every example has the same shape (one value per feature, or an empty ``Feature``
where an optional value is absent, as tfx_bsl's encoder writes it), so the protobuf
bytes of each feature are built for all rows at once as a padded byte matrix, and
one boolean-mask gather concatenates the pieces row by row into TFRecord frames
(length, masked CRC32C of the length, record, masked CRC32C of the record). Only the
record CRC is a per-row call (C, ``google_crc32c``). Readers see the same examples as
tfx_bsl's ``RecordBatchToExamplesEncoder`` written by ``tf.io.TFRecordWriter``
(the order of features inside an example may differ: proto maps are unordered).

``frame_records`` frames already serialized records the same way (for examples
encoded by tfx_bsl's ``RecordBatchToExamplesEncoder``, as the hourly-counts path does).

``WriteFramedTFRecords`` writes those blocks as files. Beam's ``WriteToTFRecord`` frames,
checksums and compresses one element per record; at a million examples that
per-element cost dominates the whole ExampleGen. Here each element is a whole block of
frames and the sink appends blocks, so compression runs once per block. Files are
ordinary (GZIP) TFRecords that ``tf.data.TFRecordDataset`` reads.
"""

from __future__ import annotations

import dataclasses
import struct

import apache_beam as beam
import google_crc32c
import numpy as np
from apache_beam import coders
from apache_beam.io import filebasedsink, iobase
from apache_beam.io.filesystem import CompressionTypes

from components.traffic_example_gen.chunks import MICROS_PER_SECOND, NO_LANE, Chunk
from transforms import features

_MASK_DELTA = 0xA282EAD8
_MAX_VARINT = 10
_FRAME_HEADER = 12  # uint64 length + masked CRC32C of it
_FRAME_FOOTER = 4  # masked CRC32C of the record
# Rows per frame() call are capped so the padded byte matrix stays near this size.
_MATRIX_BYTES = 16 << 20


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(tag: int, payload: bytes) -> bytes:
    return bytes([tag]) + _varint(len(payload)) + payload


def _entry(key: str, feature: bytes) -> bytes:
    """One ``Features.feature`` map entry (field 1 of Features)."""
    return _field(0x0A, _field(0x0A, key.encode()) + _field(0x12, feature))


def _bytes_feature(value: bytes) -> bytes:
    return _field(0x0A, _field(0x0A, value))  # Feature.bytes_list.value


def _float_feature(value: bytes) -> bytes:
    return _field(0x12, _field(0x0A, value))  # Feature.float_list.value, packed


def _int64_feature(varint: bytes) -> bytes:
    return _field(0x1A, _field(0x0A, varint))  # Feature.int64_list.value, packed


@dataclasses.dataclass
class _Piece:
    """Per-row byte strings as a padded (rows, width) uint8 matrix and row lengths."""

    matrix: np.ndarray
    lengths: np.ndarray


def _table(values: list[bytes]) -> _Piece:
    width = max(len(v) for v in values)
    matrix = np.zeros((len(values), width), dtype=np.uint8)
    for i, v in enumerate(values):
        matrix[i, : len(v)] = np.frombuffer(v, dtype=np.uint8)
    return _Piece(matrix, np.array([len(v) for v in values], dtype=np.int64))


def _gather(table: _Piece, index: np.ndarray) -> _Piece:
    return _Piece(table.matrix[index], table.lengths[index])


def varints(values: np.ndarray) -> _Piece:
    """Protobuf varints of int64 values (negatives as 10-byte two's complement)."""
    unsigned = np.asarray(values, dtype=np.int64).view(np.uint64)
    shifts = np.arange(_MAX_VARINT, dtype=np.uint64) * np.uint64(7)
    groups = ((unsigned[:, None] >> shifts) & np.uint64(0x7F)).astype(np.uint8)
    lengths = np.ones(len(unsigned), dtype=np.int64)
    for k in range(1, _MAX_VARINT):
        lengths += unsigned >= (np.uint64(1) << np.uint64(7 * k))
    more = np.arange(_MAX_VARINT) < (lengths - 1)[:, None]
    groups[more] |= 0x80
    return _Piece(groups, lengths)


class _Int64Column:
    """Entries of one int64 feature: a prefix that depends on the varint length."""

    def __init__(self, key: str):
        prefixes = []
        for n in range(_MAX_VARINT + 1):
            placeholder = b"\0" * n
            entry = _entry(key, _int64_feature(placeholder)) if n else _entry(key, b"")
            prefixes.append(entry[: len(entry) - n])
        self._prefixes = _table(prefixes)  # row n: prefix for an n-byte varint, 0: absent

    def pieces(self, values: np.ndarray, present: np.ndarray | None = None) -> list[_Piece]:
        body = varints(values)
        if present is not None:
            body.lengths = np.where(present, body.lengths, 0)
        return [_gather(self._prefixes, body.lengths), body]


class _Float32Column:
    """Entries of one float feature: a constant prefix and 4 little-endian bytes."""

    def __init__(self, key: str):
        entry = _entry(key, _float_feature(b"\0" * 4))
        self._prefix = _table([entry[:-4], _entry(key, b"")])  # row 0 present, 1 absent

    def pieces(self, values: np.ndarray, present: np.ndarray | None = None) -> list[_Piece]:
        n = len(values)
        raw = np.ascontiguousarray(values, dtype="<f4").view(np.uint8).reshape(n, 4)
        lengths = np.full(n, 4, dtype=np.int64)
        index = np.zeros(n, dtype=np.int64)
        if present is not None:
            lengths[~present] = 0
            index[~present] = 1
        return [_gather(self._prefix, index), _Piece(raw, lengths)]


class _BytesColumn:
    """Entries of one bytes feature whose values come from a vocabulary."""

    def __init__(self, key: str, vocabulary: list[bytes]):
        self._entries = _table([_entry(key, _bytes_feature(v)) for v in vocabulary])

    def pieces(self, codes: np.ndarray) -> list[_Piece]:
        return [_gather(self._entries, codes)]


def _masked_crc(crc: np.ndarray) -> np.ndarray:
    crc = crc.astype(np.uint64)
    rotated = ((crc >> np.uint64(15)) | (crc << np.uint64(17))) & np.uint64(0xFFFFFFFF)
    return ((rotated + np.uint64(_MASK_DELTA)) & np.uint64(0xFFFFFFFF)).astype("<u4")


def _frame_headers(record_lengths: np.ndarray) -> _Piece:
    """uint64 length + masked CRC32C of those 8 bytes, per record (by unique length)."""
    unique, inverse = np.unique(record_lengths, return_inverse=True)
    headers = []
    for length in unique.tolist():
        packed = struct.pack("<Q", length)
        headers.append(
            packed + struct.pack("<I", int(_masked_crc(np.array([google_crc32c.value(packed)]))[0]))
        )
    return _gather(_table(headers), inverse)


def frame_records(serialized: list[bytes]) -> bytes:
    """TFRecord frames of ``serialized`` records, concatenated (uncompressed)."""
    n = len(serialized)
    if not n:
        return b""
    lengths = np.fromiter(map(len, serialized), dtype=np.int64, count=n)
    # Opaque (void) items keep trailing zero bytes, unlike numpy's bytes strings.
    headers = _frame_headers(lengths).matrix.view(f"V{_FRAME_HEADER}").ravel().tolist()
    crc = np.fromiter(map(google_crc32c.value, serialized), dtype=np.uint64, count=n)
    footers = _masked_crc(crc).view(f"V{_FRAME_FOOTER}").tolist()
    parts: list[bytes] = [b""] * (3 * n)
    parts[0::3] = headers
    parts[1::3] = serialized
    parts[2::3] = footers
    return b"".join(parts)


def _concat_rows(pieces: list[_Piece]) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise concatenation of pieces: flat uint8 bytes and row start offsets."""
    widths = [int(p.lengths.max()) for p in pieces]
    matrix = np.concatenate([p.matrix[:, :w] for p, w in zip(pieces, widths, strict=True)], axis=1)
    columns = np.arange(max(widths))
    mask = np.concatenate(
        [columns[:w] < p.lengths[:, None] for p, w in zip(pieces, widths, strict=True)], axis=1
    )
    flat = matrix[mask]
    sizes = sum(p.lengths for p in pieces)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return flat, starts


class ExampleFramer:
    """Frames labeled rows of one intersection vocabulary as TFRecords of tf.Examples."""

    def __init__(self, intersections: np.ndarray):
        self._timestamp = _Int64Column(features.TIMESTAMP_UTC)
        self._day_of_week = _Int64Column(features.DAY_OF_WEEK)
        self._hour = _Int64Column(features.HOUR)
        self._lane = _Int64Column(features.LANE)
        self._intersection = _BytesColumn(
            features.INTERSECTION, [str(i).encode() for i in intersections]
        )
        self._direction = _BytesColumn(
            features.DIRECTION, [d.encode() for d in features.DIRECTIONS]
        )
        self._vehicle_type = _BytesColumn(
            features.VEHICLE_TYPE, [v.encode() for v in features.VEHICLE_TYPES]
        )
        self._speed = _Float32Column(features.SPEED)
        self._label = _Float32Column(features.SECONDS_TO_NEXT_VEHICLE)
        self._row_bytes = (
            sum(
                p.matrix.shape[1]
                for p in self._pieces(
                    np.zeros(1, np.int32), np.zeros(1, np.int8), _one_row(), [0.0]
                )
            )
            + _FRAME_HEADER
            + _FRAME_FOOTER
            + _MAX_VARINT
            + 1
        )

    def _pieces(self, intersection, direction, chunk: Chunk, label_seconds) -> list[_Piece]:
        return [
            *self._timestamp.pieces(chunk.ts_us // MICROS_PER_SECOND),
            *self._day_of_week.pieces(chunk.day_of_week),
            *self._hour.pieces(chunk.hour),
            *self._intersection.pieces(intersection),
            *self._direction.pieces(direction),
            *self._vehicle_type.pieces(chunk.vehicle_type),
            *self._lane.pieces(chunk.lane, chunk.lane != NO_LANE),
            *self._speed.pieces(chunk.speed, ~np.isnan(chunk.speed)),
            *self._label.pieces(np.asarray(label_seconds)),
        ]

    def rows_per_block(self) -> int:
        """Rows framed per call so the padded matrix stays near 16 MB."""
        return max(1, _MATRIX_BYTES // self._row_bytes)

    def frame(
        self,
        intersection: np.ndarray,
        direction: np.ndarray,
        chunk: Chunk,
        label_seconds: np.ndarray,
    ) -> bytes:
        """TFRecord frames of the rows' tf.Examples, concatenated (uncompressed)."""
        if not len(chunk):
            return b""
        body = self._pieces(intersection, direction, chunk, label_seconds)
        body_lengths = sum(p.lengths for p in body)
        outer = varints(body_lengths)
        tag = _Piece(np.full((len(chunk), 1), 0x0A, dtype=np.uint8), np.ones(len(chunk), np.int64))
        record_lengths = 1 + outer.lengths + body_lengths
        footer = _Piece(np.zeros((len(chunk), 4), dtype=np.uint8), np.full(len(chunk), 4))
        pieces = [_frame_headers(record_lengths), tag, outer, *body, footer]
        flat, starts = _concat_rows(pieces)
        data = flat.tobytes()  # google_crc32c reads bytes only
        record_starts = (starts + _FRAME_HEADER).tolist()
        record_ends = (starts + _FRAME_HEADER + record_lengths).tolist()
        crc = np.fromiter(
            (
                google_crc32c.value(data[a:b])
                for a, b in zip(record_starts, record_ends, strict=True)
            ),
            dtype=np.uint64,
            count=len(record_starts),
        )
        footers = _masked_crc(crc).view(np.uint8).reshape(-1, 4)
        flat[np.asarray(record_ends)[:, None] + np.arange(4)] = footers
        return flat.tobytes()


def _one_row() -> Chunk:
    return Chunk(
        ts_us=np.zeros(1, np.int64),
        vehicle_type=np.zeros(1, np.int8),
        lane=np.zeros(1, np.int64),
        speed=np.zeros(1),
        day_of_week=np.zeros(1, np.int8),
        hour=np.zeros(1, np.int8),
        is_eval=np.zeros(1, bool),
        file_index=np.zeros(1, np.int32),
        row=np.zeros(1, np.int64),
    )


class _TFRecordBlockSink(filebasedsink.FileBasedSink):
    """A file sink whose elements are pre-framed TFRecord blocks."""

    def __init__(self, file_path_prefix: str, file_name_suffix: str):
        super().__init__(
            file_path_prefix,
            coder=coders.BytesCoder(),
            file_name_suffix=file_name_suffix,
            mime_type="application/octet-stream",
            compression_type=CompressionTypes.AUTO,
        )

    def write_encoded_record(self, file_handle, encoded_value: bytes) -> None:
        file_handle.write(encoded_value)


class WriteFramedTFRecords(beam.PTransform):
    """Writes ``bytes`` elements that are already TFRecord frames, concatenated.

    Files are ``<prefix>-SSSSS-of-NNNNN<suffix>``; a ``.gz`` suffix writes GZIP, like
    stock ExampleGen.
    """

    def __init__(self, file_path_prefix: str, file_name_suffix: str = ".gz"):
        super().__init__()
        self._sink = _TFRecordBlockSink(file_path_prefix, file_name_suffix)

    def expand(self, blocks):
        return blocks | "Write" >> iobase.Write(self._sink)
