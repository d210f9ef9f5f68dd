"""``Chunk``: a columnar slice of valid observations (numpy arrays, one per field).

A ``Chunk`` holds the rows of one approach (intersection and direction are implied);
a ``Slab`` holds rows of many approaches, with the approach dictionary-encoded. Slabs
are what is staged between the pipeline's stages: a handful of numeric arrays, no
per-row Python objects.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from transforms import features

MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND
NO_LANE = np.iinfo(np.int64).min  # sentinel for an absent optional lane
DIRECTION_CODES = len(features.DIRECTIONS)


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


@dataclasses.dataclass
class Slab:
    """Valid observations of many approaches: a ``Chunk`` plus each row's approach.

    Intersections are dictionary-encoded against a sorted vocabulary, directions are
    indices into ``features.DIRECTIONS``; so ``approach`` orders rows by
    (intersection, direction) without per-row Python strings.
    """

    intersections: np.ndarray  # sorted unique intersection ids (object array of str)
    intersection: np.ndarray  # int32 index into ``intersections``
    direction: np.ndarray  # int8 index into features.DIRECTIONS
    chunk: Chunk

    def __len__(self) -> int:
        return len(self.chunk)

    def take(self, index: np.ndarray | slice) -> Slab:
        """The rows at ``index`` (the vocabulary is kept)."""
        return Slab(
            self.intersections,
            self.intersection[index],
            self.direction[index],
            self.chunk.take(index),
        )

    def approach(self) -> np.ndarray:
        """int64 approach number, ordered by (intersection, direction)."""
        return self.intersection.astype(np.int64) * DIRECTION_CODES + self.direction

    @staticmethod
    def from_strings(intersection: np.ndarray, direction_code: np.ndarray, chunk: Chunk) -> Slab:
        """Dictionary-encodes per-row intersection strings."""
        codes, uniques = pd.factorize(intersection, sort=True)
        return Slab(
            np.asarray(uniques, dtype=object),
            codes.astype(np.int32),
            np.asarray(direction_code, dtype=np.int8),
            chunk,
        )

    @staticmethod
    def concat(slabs: list[Slab]) -> Slab:
        """All rows of ``slabs`` in order, over the union of their vocabularies."""
        if len(slabs) == 1:
            return slabs[0]
        vocab = np.unique(np.concatenate([s.intersections for s in slabs]))
        return Slab(
            vocab,
            np.concatenate(
                [
                    np.searchsorted(vocab, s.intersections).astype(np.int32)[s.intersection]
                    for s in slabs
                ]
            ),
            np.concatenate([s.direction for s in slabs]),
            Chunk.concat([s.chunk for s in slabs]),
        )
