"""``Chunk``: a columnar slice of valid observations (numpy arrays, one per field).

Chunks are what crosses Beam shuffles: a handful of numeric arrays pickle fast and
keep per-row Python objects out of the pipeline. Intersection and direction are not
stored; they are part of the shuffle key.
"""

from __future__ import annotations

import dataclasses

import numpy as np

MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND
NO_LANE = np.iinfo(np.int64).min  # sentinel for an absent optional lane


@dataclasses.dataclass
class Chunk:
    """Valid observations of one key (all arrays have the same length)."""

    ts_us: np.ndarray  # int64 UTC epoch microseconds
    vehicle_type: np.ndarray  # int8 index into features.VEHICLE_TYPES
    lane: np.ndarray  # int64, NO_LANE if absent
    speed: np.ndarray  # float64, NaN if absent
    day_of_week: np.ndarray  # int8 local, 0 = Monday
    hour: np.ndarray  # int8 local
    is_eval: np.ndarray  # bool
    file_index: np.ndarray  # int32 index into the run's sorted input files
    row: np.ndarray  # int64 1-based data row within its file

    def __len__(self) -> int:
        return len(self.ts_us)

    def take(self, index: np.ndarray | slice) -> Chunk:
        """The rows at ``index`` (an index array, boolean mask or slice)."""
        return Chunk(*(getattr(self, f.name)[index] for f in dataclasses.fields(self)))

    @staticmethod
    def concat(chunks: list[Chunk]) -> Chunk:
        """All rows of ``chunks`` in order."""
        if len(chunks) == 1:
            return chunks[0]
        return Chunk(
            *(
                np.concatenate([getattr(c, f.name) for c in chunks])
                for f in dataclasses.fields(Chunk)
            )
        )
