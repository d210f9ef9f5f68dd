"""What the model starts from, summed over the train split one batch at a time.

``ApproachCounts.add`` takes a batch of rows and keeps only exact sums: vehicles and
rows per (approach, day-hour cell, vehicle type), the distinct (cell, UTC hour) pairs
seen, and the vehicle types. The sums are of whole numbers in float64, so they are the
same in any batching and order; ``approach_init`` then fits the historical-average
table (``transforms.approach_table``) and the approaches' initial log-rates exactly as
from all rows at once. Memory: the table's size, whatever the number of rows (times
the local weeks, with ``by_week``: the calibration's recency weighting reads the sums
of each week).
"""

from __future__ import annotations

import numpy as np

from transforms import approach_table, features, row_order
from transforms.model import ApproachInit


class ApproachCounts:
    """Exact per-approach sums over the rows added so far (and, with ``by_week``, the
    same sums per local week in ``weeks``)."""

    def __init__(self, data_kind: str, by_week: bool = False) -> None:
        self.data_kind = data_kind
        self.weeks: dict[int, ApproachCounts] | None = {} if by_week else None
        self.rows = 0
        self.ids = np.zeros([0], np.int64)  # sorted APPROACH_XF values
        self._shape = (features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES))
        self.vehicles = np.zeros([0, *self._shape])
        self.count_rows = np.zeros([0, *self._shape])  # counts: rows (hours) per cell
        self.hour_cells = np.zeros([0], np.int64)  # events: distinct utc_hour * 168 + cell
        self.vehicle_types: set[int] = set()
        # Each approach's model inputs, from the first row seen (its intersection and
        # direction: the same in all its rows), for the model's answer per approach.
        self.inputs: dict[str, np.ndarray] = {}

    def add(
        self,
        approach: np.ndarray,
        cell: np.ndarray,
        vehicle_type: np.ndarray,
        vehicles: np.ndarray,
        timestamps: np.ndarray,
        inputs: dict[str, np.ndarray] | None = None,
    ) -> None:
        """Adds a batch: per row its approach id, cell, type index, vehicles and UTC time
        (and its model inputs, to keep one row's per approach)."""
        if not len(approach):
            return
        self.rows += len(approach)
        batch_ids, first, rows = np.unique(approach, return_index=True, return_inverse=True)
        self._grow(batch_ids, {k: v[first] for k, v in (inputs or {}).items()})
        at = np.searchsorted(self.ids, batch_ids)
        args = (rows, cell, vehicle_type)
        self.vehicles[at] += approach_table.observed_sums(*args, vehicles, len(batch_ids))
        if self.data_kind == features.DATA_KIND_COUNTS:
            ones = np.ones(len(rows))
            self.count_rows[at] += approach_table.observed_sums(*args, ones, len(batch_ids))
        else:
            hour = np.asarray(timestamps, np.int64) // 3600
            pairs = np.unique(hour * features.DAY_HOUR_CELLS + cell)
            self.hour_cells = np.union1d(self.hour_cells, pairs)
        self.vehicle_types.update(np.unique(vehicle_type).tolist())
        if self.weeks is not None:
            week = row_order.local_week(timestamps, cell)
            for w in np.unique(week).tolist():
                rows_of = week == w
                each = (approach, cell, vehicle_type, vehicles, np.asarray(timestamps))
                counts = self.weeks.setdefault(w, ApproachCounts(self.data_kind))
                counts.add(*(column[rows_of] for column in each))

    def _grow(self, batch_ids: np.ndarray, batch_inputs: dict[str, np.ndarray]) -> None:
        ids = np.union1d(self.ids, batch_ids)
        if len(ids) == len(self.ids):
            return
        at = np.searchsorted(ids, self.ids)
        for name in ("vehicles", "count_rows"):
            grown = np.zeros([len(ids), *self._shape])
            grown[at] = getattr(self, name)
            setattr(self, name, grown)
        new = ~np.isin(batch_ids, self.ids)
        for name, values in batch_inputs.items():
            grown = np.zeros(len(ids), values.dtype)
            if name in self.inputs:
                grown[at] = self.inputs[name]
            grown[np.searchsorted(ids, batch_ids[new])] = values[new]
            self.inputs[name] = grown
        self.ids = ids

    def on(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vehicles, count rows) per (approach, cell, type) over ``ids`` (a sorted
        superset of this one's approaches; zero where an approach had no row here)."""
        at = np.searchsorted(ids, self.ids)
        vehicles, count_rows = (
            np.zeros([len(ids), *self._shape]),
            np.zeros([len(ids), *self._shape]),
        )
        vehicles[at], count_rows[at] = self.vehicles, self.count_rows
        return vehicles, count_rows

    def exposure_hours(self) -> np.ndarray:
        """Hours of exposure: rows per (approach, cell, type) for counts, else per cell the
        distinct UTC hours with any vehicle (``approach_table.event_exposure_hours``)."""
        if self.data_kind == features.DATA_KIND_COUNTS:
            return self.count_rows
        cells = self.hour_cells % features.DAY_HOUR_CELLS
        return np.bincount(cells, minlength=features.DAY_HOUR_CELLS).astype(np.float64)

    def approach_init(self) -> ApproachInit:
        """The trained approaches, their initial log-rates and the historical-average table."""
        table = approach_table.fit_approach_average(self.vehicles, self.exposure_hours())
        per_hour = approach_table.initial_rates(table, self.vehicles.sum(axis=1))
        return ApproachInit(
            self.ids, np.log(per_hour / 3600.0).astype(np.float32), table.rates, rows=self.rows
        )
