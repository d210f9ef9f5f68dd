"""The Trainer's one pass over the train split, in bounded memory when it must be.

``collect`` takes the split as batches of transformed rows (``RowBatch``) and, per
batch: hashes every row (``transforms.row_order``); adds the exact per-approach sums
the model starts from (``transforms.approach_counts``); keeps the held-out rows that
validate (at most ``max_validation_rows``: the smallest ``validation_rank``); and stores
the other rows for training (``transforms.row_store``: in memory while they fit the
memory budget, else in bucket files on local disk). Nothing here depends on the batch
size, the order of the batches or the budget, so the model does not either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from transforms import features, row_order
from transforms.approach_counts import ApproachCounts
from transforms.model import ApproachInit
from transforms.row_store import HASH_FIELD, STREAMING, RowLayout, RowStore


@dataclass
class RowBatch:
    """A batch of transformed rows: model inputs, labels, UTC times, approaches seen."""

    inputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]
    timestamps: np.ndarray  # int64 epoch seconds of each row
    approaches: set[tuple[str, str]] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return len(self.timestamps)


def type_index(labels: dict[str, np.ndarray]) -> np.ndarray:
    """Each row's index into ``VEHICLE_TYPES`` (int64), from either kind's labels."""
    if features.VEHICLE_TYPE_OUTPUT in labels:
        return labels[features.VEHICLE_TYPE_OUTPUT].astype(np.int64)
    return labels[features.VEHICLES_PER_HOUR_OUTPUT][:, 1].astype(np.int64)


def vehicles(labels: dict[str, np.ndarray]) -> np.ndarray:
    """Vehicles each row stands for: its count (counts) or 1 (events)."""
    if features.VEHICLES_PER_HOUR_OUTPUT in labels:
        return labels[features.VEHICLES_PER_HOUR_OUTPUT][:, 0].astype(np.float64)
    return np.ones(len(next(iter(labels.values()))))


@dataclass
class InMemorySplit:
    """Model inputs and labels as numpy columns (the rows that validate)."""

    inputs: dict[str, np.ndarray]
    labels: dict[str, np.ndarray]

    @property
    def rows(self) -> int:
        return len(next(iter(self.labels.values())))


class _ValidationSample:
    """The held-out rows with the smallest ``validation_rank``, at most ``max_rows``.

    Batches wait in a list and are merged and trimmed only once they exceed twice
    ``max_rows``, so a batch costs its own rows, not a copy of the whole sample.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self.held_out_rows = 0  # all held-out rows seen
        self._chunks: list[np.ndarray] = []
        self._rows = 0  # in _chunks

    def add(self, records: np.ndarray) -> None:
        if not len(records):
            return
        self.held_out_rows += len(records)
        self._chunks.append(records)
        self._rows += len(records)
        if self._rows > 2 * self.max_rows:
            self._chunks = [self._smallest(np.concatenate(self._chunks))]
            self._rows = len(self._chunks[0])

    def _smallest(self, records: np.ndarray) -> np.ndarray:
        if len(records) <= self.max_rows:
            return records
        rank = row_order.validation_rank(records[HASH_FIELD])
        # Ties are rows with equal hashes, equal in every column: either one will do.
        return records[np.argpartition(rank, self.max_rows - 1)[: self.max_rows]]

    def final(self) -> np.ndarray | None:
        """The sample, in ``validation_rank`` order (None: no row was held out)."""
        if not self._chunks:
            return None
        records = self._smallest(np.concatenate(self._chunks))
        return records[np.argsort(row_order.validation_rank(records[HASH_FIELD]), kind="stable")]


@dataclass
class TrainingRows:
    """What ``collect`` read: the training rows, the validation rows and the sums."""

    store: RowStore
    validation: InMemorySplit
    approach_init: ApproachInit
    approaches: set[tuple[str, str]]
    vehicle_types: list[int]
    rows: int  # rows of the train split read
    held_out_rows: int  # of them, held out for validation (before sampling)
    counts: ApproachCounts  # sums over every row read (and each approach's inputs)
    fit_counts: ApproachCounts  # over the rows trained on (calibration)
    held_out_counts: ApproachCounts  # over the rows held out (calibration)

    def record(self) -> dict:
        """What ran, for ``training_input.json`` and the run log."""
        return {
            "path": self.store.path,
            "rows": self.rows,
            "train_rows": self.store.rows,
            "held_out_rows": self.held_out_rows,
            "validation_rows": self.validation.rows,
            "row_bytes": self.store.layout.dtype.itemsize,
            "train_bytes": self.store.bytes,
            "memory_budget_bytes": self.store.budget_bytes,
            "peak_rows_in_memory": self.store.peak_rows,
            "buckets": row_order.BUCKETS,
            "spill_dir": self.store.spill_dir if self.store.path == STREAMING else "",
        }


def collect(
    batches: Iterable[RowBatch],
    *,
    data_kind: str,
    seed: int,
    validation_fraction: float,
    max_validation_rows: int,
    validation_split: str,
    budget_bytes: int,
    spill_dir: str,
) -> TrainingRows:
    """Reads every batch once (see the module docstring).

    A split too small to hold a row out validates on a copy of its training row of
    smallest ``validation_rank``; one with every row held out trains on a copy of its
    held-out row of smallest rank. ``validation_split``: hold out rows by their hash
    (``row_order.held_out``) or whole local days (``row_order.held_out_days``).
    """
    counts = ApproachCounts(data_kind, by_week=True)  # the calibration's recency weighting
    fit_counts, held_out_counts = ApproachCounts(data_kind), ApproachCounts(data_kind)
    sample = _ValidationSample(max_validation_rows)
    fallback = _ValidationSample(1)  # the training row that validates if none is held out
    approaches: set[tuple[str, str]] = set()
    store: RowStore | None = None
    rows = 0
    for batch in batches:
        if not batch.rows:
            continue
        rows += batch.rows
        layout = RowLayout.of(batch.inputs, batch.labels)
        if store is None:
            store = RowStore(layout, budget_bytes, spill_dir)
        elif layout != store.layout:
            raise ValueError(f"a batch of the train split has columns {layout}, not {store.layout}")
        columns = [batch.inputs[k] for k in sorted(batch.inputs)]
        columns += [batch.labels[k] for k in sorted(batch.labels)] + [batch.timestamps]
        h = row_order.row_hash(columns, batch.rows, seed)
        columns = (
            batch.inputs[features.APPROACH_XF],
            batch.inputs[features.DAY_HOUR_CELL_XF],
            type_index(batch.labels),
            vehicles(batch.labels),
            batch.timestamps,
        )
        counts.add(*columns, inputs=batch.inputs)
        out = (
            row_order.held_out_days(
                batch.timestamps, batch.inputs[features.DAY_HOUR_CELL_XF], seed, validation_fraction
            )
            if validation_split == row_order.VALIDATION_BY_DAY
            else row_order.held_out(h, validation_fraction)
        )
        fit_counts.add(*(c[~out] for c in columns))
        held_out_counts.add(*(c[out] for c in columns))
        approaches |= batch.approaches
        records = layout.records(batch.inputs, batch.labels, h)
        sample.add(records[out])
        train = records[~out]
        store.add(train)
        if not sample.held_out_rows:
            fallback.add(train)
    if store is None:
        raise ValueError("no examples in the train split")
    validation = sample.final()
    if validation is None:  # no row held out
        validation = fallback.final()
    if store.rows == 0:  # every row held out
        store.add(validation[:1])
    store.finish()
    return TrainingRows(
        store=store,
        validation=InMemorySplit(*store.layout.columns(validation)),
        approach_init=counts.approach_init(),
        approaches=approaches,
        vehicle_types=sorted(counts.vehicle_types),
        rows=rows,
        held_out_rows=sample.held_out_rows,
        counts=counts,
        fit_counts=fit_counts,
        held_out_counts=held_out_counts,
    )
