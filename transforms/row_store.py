"""The training rows in ``transforms.row_order``'s buckets: in memory, or on local disk.

``RowStore`` holds the rows as one numpy record per row (the model's input columns, its
label columns and the row's hash) while they fit the memory budget. When a batch would
take them over it, the store writes what it holds to one file per bucket and appends
every later batch there (the streaming path), once a quarter of the budget has arrived:
it then holds at most that plus a batch, and a training pass reads one bucket at a time
(``pass_chunks``). Both ways yield the same rows in the same order, so the model does
not depend on the budget. ``peak_rows`` counts the most rows the store held in memory at
once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from transforms import row_order

HASH_FIELD = "row_hash"
CHUNK_BATCHES = 32  # batches per hand-over to tf.data (pass_chunks)
SPILL_WRITE_SHARE = 4  # once spilled, rows are written in chunks of budget / this
IN_MEMORY = "in_memory"
STREAMING = "streaming"


@dataclass(frozen=True)
class RowLayout:
    """The record of one row: input and label columns (name -> dtype, shape) and the hash."""

    inputs: tuple[tuple[str, str, tuple[int, ...]], ...]
    labels: tuple[tuple[str, str, tuple[int, ...]], ...]

    @classmethod
    def of(cls, inputs: dict[str, np.ndarray], labels: dict[str, np.ndarray]) -> RowLayout:
        """The layout of a batch's columns (leading axis: rows)."""

        def fields(columns: dict[str, np.ndarray]) -> tuple:
            return tuple((k, v.dtype.str, v.shape[1:]) for k, v in sorted(columns.items()))

        return cls(fields(inputs), fields(labels))

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(
            [(name, dtype, shape) for name, dtype, shape in (*self.inputs, *self.labels)]
            + [(HASH_FIELD, np.uint64)]
        )

    def records(
        self, inputs: dict[str, np.ndarray], labels: dict[str, np.ndarray], h: np.ndarray
    ) -> np.ndarray:
        """One record per row of the columns and their hashes."""
        out = np.empty(len(h), self.dtype)
        for name, _, _ in self.inputs:
            out[name] = inputs[name]
        for name, _, _ in self.labels:
            out[name] = labels[name]
        out[HASH_FIELD] = h
        return out

    def columns(self, records: np.ndarray) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(inputs, labels) as contiguous columns of ``records``."""
        return (
            {name: np.ascontiguousarray(records[name]) for name, _, _ in self.inputs},
            {name: np.ascontiguousarray(records[name]) for name, _, _ in self.labels},
        )


class RowStore:
    """Training rows by bucket, in memory up to ``budget_bytes``, else in ``spill_dir``."""

    def __init__(self, layout: RowLayout, budget_bytes: int, spill_dir: str) -> None:
        self.layout = layout
        self.budget_bytes = budget_bytes
        self.spill_dir = spill_dir
        self.rows = 0
        self.peak_rows = 0
        self._held: list[np.ndarray] = []  # in memory, until spilled or finished
        self._files: dict[int, BinaryIO] | None = None  # bucket -> open file, once spilled
        self._data: np.ndarray | None = None  # in memory, sorted by bucket (finished)
        self._offsets: np.ndarray | None = None

    @property
    def path(self) -> str:
        """``IN_MEMORY`` or ``STREAMING`` (rows on local disk)."""
        return IN_MEMORY if self._files is None else STREAMING

    @property
    def bytes(self) -> int:
        """The rows' size in memory (what the budget is compared with)."""
        return self.rows * self.layout.dtype.itemsize

    def _note_held(self, rows: int) -> None:
        self.peak_rows = max(self.peak_rows, rows)

    def add(self, records: np.ndarray) -> None:
        """Adds rows (``layout.dtype`` records); spills to disk once over the budget."""
        self.rows += len(records)
        if self._files is None and self.bytes <= self.budget_bytes:
            self._held.append(records)
            self._note_held(self.rows)
            return
        if self._files is None:  # the held rows and this batch, once, while they go to disk
            self._note_held(self.rows)
            self._files = {}
            held, self._held = [*self._held, records], []
            for chunk in held:
                self._write(chunk)
            return
        # Spilled rows wait for a quarter of the budget (or a batch), then go to disk in
        # one write per bucket: small load batches do not become tiny writes.
        self._held.append(records)
        waiting = sum(len(chunk) for chunk in self._held)
        self._note_held(waiting)
        if waiting * self.layout.dtype.itemsize >= self.budget_bytes // SPILL_WRITE_SHARE:
            self._flush()

    def _flush(self) -> None:
        if self._held:
            self._write(np.concatenate(self._held))
            self._held = []

    def _write(self, records: np.ndarray) -> None:
        bucket = row_order.bucket_of(records[HASH_FIELD])
        order = np.argsort(bucket, kind="stable")
        ends = np.cumsum(np.bincount(bucket, minlength=row_order.BUCKETS))
        records = records[order]
        try:
            for b in np.flatnonzero(np.diff(ends, prepend=0)):
                if b not in self._files:
                    self._files[b] = open(self._bucket_path(b), "ab")  # noqa: SIM115
                start = ends[b - 1] if b else 0
                records[start : ends[b]].tofile(self._files[b])
        except OSError as err:
            raise OSError(
                f"cannot cache the training rows on local disk in {self.spill_dir} ({err}); "
                "free space there (TMPDIR) or raise resources.memory_budget_mb"
            ) from err

    def _bucket_path(self, bucket: int) -> str:
        return os.path.join(self.spill_dir, f"bucket-{bucket:03d}.rows")

    def finish(self) -> None:
        """Ends adding: sorts the held rows by bucket, or flushes the bucket files."""
        if self._files is not None:
            self._flush()
            for f in self._files.values():
                f.close()
            return
        data = np.concatenate(self._held) if self._held else np.empty(0, self.layout.dtype)
        self._held = []
        bucket = row_order.bucket_of(data[HASH_FIELD])
        self._data = data[np.argsort(bucket, kind="stable")]
        sizes = np.bincount(bucket, minlength=row_order.BUCKETS)
        self._offsets = np.concatenate([[0], np.cumsum(sizes)])

    def bucket(self, b: int) -> np.ndarray:
        """The rows of bucket ``b``, in storage order."""
        if self._files is None:
            return self._data[self._offsets[b] : self._offsets[b + 1]]
        path = self._bucket_path(b)
        if not os.path.exists(path):
            return np.empty(0, self.layout.dtype)
        return np.fromfile(path, self.layout.dtype)

    def pass_chunks(self, batch_size: int, seed: int, pass_index: int) -> Iterator[np.ndarray]:
        """One training pass: the rows in ``row_order``'s pass order, in chunks of whole
        batches of ``batch_size``; the rows after the last whole batch are dropped.

        A chunk gathers buckets until it holds ``CHUNK_BATCHES`` batches or a quarter of
        the budget (whichever is less, at least one batch): fewer, larger hand-overs to
        tf.data, the same rows in the same order.
        """
        quarter = self.budget_bytes // (4 * self.layout.dtype.itemsize)
        target = max(batch_size, min(CHUNK_BATCHES * batch_size, quarter))
        parts: list[np.ndarray] = []
        held = 0
        for b in row_order.pass_bucket_order(seed, pass_index):
            rows = self.bucket(b)
            if not len(rows):
                continue
            parts.append(rows[row_order.pass_row_order(rows[HASH_FIELD], pass_index)])
            held += len(rows)
            if held < target:
                continue
            rows = np.concatenate(parts)
            if self._files is not None:  # in memory, every row is held anyway
                self._note_held(len(rows))
            whole = len(rows) // batch_size * batch_size
            yield rows[:whole]
            parts, held = [rows[whole:]], len(rows) - whole
        if held >= batch_size:
            rows = np.concatenate(parts)
            if self._files is not None:
                self._note_held(len(rows))
            yield rows[: len(rows) // batch_size * batch_size]
