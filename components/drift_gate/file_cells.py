"""Day cells per Examples file, reused across runs by the file's content.

A nightly run's window shares all but one day with the night before, and ExampleGen
writes one Examples file per day (``data_tfrecord-<day>-*.gz``; the day cache's reused
days have the same bytes). Counting the day cells (``derived.count_day_cells``) reads
every example, so the DriftGate keeps, at the root of its ``drift_statistics`` artifact,
the day cells of each file it counted, keyed by a SHA-256 of the file's bytes, the data
kind and the time zone (``FILE_CELLS_FILE``). The next run reads the baseline's (the
last blessed run's) table and counts only the files whose key is not in it: a new day,
a rewritten day, a day whose last vehicles got their labels. Summing the files' cells
gives the same table as counting them all (``tests/components/drift_gate``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import tensorflow as tf

from components.drift_gate import derived, recent

FILE_CELLS_FILE = "FileCells.parquet"  # at the root of the drift_statistics artifact
FILE_KEY = "file_key"  # the column of a file's key in that table
_CHUNK_BYTES = 1 << 20


def file_key(path: str, data_kind: str, timezone: str) -> str:
    """SHA-256 of the file's bytes, the data kind and the time zone (the local days)."""
    digest = hashlib.sha256(f"{data_kind}\n{timezone}\n".encode())
    with tf.io.gfile.GFile(path, "rb") as handle:
        while chunk := handle.read(_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Counted:
    """A split's day cells, and the files' cells with their keys (``FILE_KEY``)."""

    day_cells: pd.DataFrame
    file_cells: pd.DataFrame
    reused_files: int
    counted_files: int


def day_cells(
    files: Sequence[str], data_kind: str, timezone: str, known: pd.DataFrame | None
) -> Counted:
    """The day cells of ``files`` (as ``derived.count_day_cells`` of them all), reading
    only the files whose key is not in ``known`` (a ``FILE_CELLS_FILE`` table, or None)."""
    keys = [file_key(path, data_kind, timezone) for path in files]
    by_key: dict[str, pd.DataFrame] = {}
    if known is not None:
        wanted = known[known[FILE_KEY].isin(set(keys))]
        by_key = {k: part.drop(columns=FILE_KEY) for k, part in wanted.groupby(FILE_KEY)}
    reused = sum(key in by_key for key in keys)
    for path, key in zip(files, keys, strict=True):
        if key not in by_key:
            by_key[key] = derived.count_day_cells([path], data_kind, timezone)
    parts = [by_key[key] for key in keys]  # a file twice (same bytes) counts twice
    if not parts:
        return Counted(derived.count_day_cells([], data_kind, timezone), _empty(), 0, 0)
    summed = derived.merge_day_cells(parts)
    stored = pd.concat(
        [by_key[key].assign(**{FILE_KEY: key}) for key in dict.fromkeys(keys)],
        ignore_index=True,
    )
    return Counted(summed, stored, reused, len(keys) - reused)


def _empty() -> pd.DataFrame:
    return pd.DataFrame({name: [] for name in [*derived.CELL_KEYS, derived.WEIGHT, FILE_KEY]})


def read(uri: str) -> pd.DataFrame | None:
    """The file cells kept under a drift_statistics ``uri``; None if it has none."""
    return recent.read_day_cells(f"{uri.rstrip('/')}/{FILE_CELLS_FILE}")


def write(uri: str, tables: Sequence[pd.DataFrame]) -> None:
    """Keeps the splits' file cells under ``uri``, each key once (a file of the same
    bytes in two splits must not be summed twice by the next run)."""
    seen: set[str] = set()
    parts = []
    for table in tables:
        parts.append(table[~table[FILE_KEY].isin(seen)])
        seen.update(table[FILE_KEY].unique())
    table = pd.concat(parts, ignore_index=True) if parts else _empty()
    recent.write_day_cells(f"{uri.rstrip('/')}/{FILE_CELLS_FILE}", table)
