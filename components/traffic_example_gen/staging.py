"""Staged slabs: parsed rows parked as Arrow IPC files between the pipeline's stages.

The rows of a UTC day group come from several input files, so they must be brought
together. Instead of shuffling the rows through the runner (the DirectRunner holds
every shuffled element of a stage in its own memory until the next stage starts),
``ParseAndStage`` writes each (UTC day, shard) slice of a file to the staging
directory and shuffles only the file's path; ``LabelDayGroup`` reads its group's
files back. Memory is then bounded by one input file and one day group, whatever the
number of days. Files go through Beam's ``FileSystems`` (local disk, GCS, ...), and
the executor deletes the directory when the pipeline is done.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
from apache_beam.io.filesystems import FileSystems

from components.traffic_example_gen.chunks import Chunk, Slab

STAGING_DIR_NAME = "staging"  # under the executor's temp dir while the pipeline runs
_CHUNK_FIELDS = [f.name for f in dataclasses.fields(Chunk)]
_INTERSECTION = "intersection_id"
_DIRECTION = "direction"


def staged_path(staging_dir: str, utc_day: int, shard: int, file_index: int, part: int) -> str:
    """The path of one staged slice (deterministic, so a retried bundle overwrites)."""
    return FileSystems.join(staging_dir, f"day{utc_day}-shard{shard}-file{file_index}-{part}.arrow")


def _to_batch(slab: Slab, extra: dict[str, np.ndarray] | None = None) -> pa.RecordBatch:
    chunk = slab.chunk
    arrays = [pa.array(getattr(chunk, name)) for name in _CHUNK_FIELDS]
    intersections = pa.array(list(slab.intersections), pa.string())
    arrays.append(pa.DictionaryArray.from_arrays(pa.array(slab.intersection), intersections))
    arrays.append(pa.array(slab.direction))
    extra = extra or {}
    arrays.extend(pa.array(values) for values in extra.values())
    return pa.RecordBatch.from_arrays(arrays, [*_CHUNK_FIELDS, _INTERSECTION, _DIRECTION, *extra])


def _from_batch(batch: pa.RecordBatch) -> Slab:
    names = batch.schema.names
    chunk = Chunk(
        *(batch.column(names.index(n)).to_numpy(zero_copy_only=False) for n in _CHUNK_FIELDS)
    )
    intersection = batch.column(names.index(_INTERSECTION))
    return Slab(
        np.asarray(intersection.dictionary.to_pylist(), dtype=object),
        intersection.indices.to_numpy().astype(np.int32),
        batch.column(names.index(_DIRECTION)).to_numpy(),
        chunk,
    )


def write_slab(path: str, slab: Slab, extra: dict[str, np.ndarray] | None = None) -> None:
    """Writes ``slab`` to ``path`` as an Arrow IPC stream, with ``extra`` columns (one
    value per row) if given."""
    sink = pa.BufferOutputStream()
    batch = _to_batch(slab, extra)
    with pa.ipc.new_stream(sink, batch.schema) as writer:
        writer.write_batch(batch)
    with FileSystems.create(path) as handle:
        handle.write(sink.getvalue().to_pybytes())


def read_slab(path: str) -> Slab:
    """Reads a slab written by ``write_slab``."""
    return read_slab_with(path, ())[0]


def read_slab_with(path: str, extra: tuple[str, ...]) -> tuple[Slab, dict[str, np.ndarray]]:
    """Reads a slab written by ``write_slab`` and its ``extra`` columns."""
    with FileSystems.open(path) as handle:
        data = handle.read()
    table = pa.ipc.open_stream(data).read_all()
    batch = table.combine_chunks().to_batches()[0]
    names = batch.schema.names
    return _from_batch(batch), {n: batch.column(names.index(n)).to_numpy() for n in extra}


def remove(staging_dir: str) -> None:
    """Deletes the staging directory if it exists."""
    if FileSystems.exists(staging_dir):
        FileSystems.delete([staging_dir])


def staging_dir_under(tmp_dir: str) -> str:
    """The staging directory under the executor's temp dir ``tmp_dir``."""
    return FileSystems.join(tmp_dir, STAGING_DIR_NAME)
