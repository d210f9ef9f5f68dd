"""Staged slabs round-trip through Arrow IPC files, and the directory is removable."""

from __future__ import annotations

import numpy as np

from components.traffic_example_gen import staging
from components.traffic_example_gen.chunks import NO_LANE, Chunk, Slab


def _slab() -> Slab:
    chunk = Chunk(
        ts_us=np.array([3, 1, 2], dtype=np.int64),
        vehicle_type=np.array([0, 3, 1], dtype=np.int8),
        lane=np.array([1, NO_LANE, 7], dtype=np.int64),
        speed=np.array([np.nan, 12.5, 0.0]),
        day_of_week=np.array([6, 0, 1], dtype=np.int8),
        hour=np.array([23, 0, 5], dtype=np.int8),
        is_eval=np.array([True, False, True]),
        file_index=np.array([2, 0, 1], dtype=np.int32),
        row=np.array([10, 20, 30], dtype=np.int64),
    )
    intersection = np.array(["Zürich-Ost", "A", "Zürich-Ost"], dtype=object)
    return Slab.from_strings(intersection, np.array([3, 0, 1]), chunk)


def test_write_then_read_gives_the_same_slab(tmp_path):
    slab = _slab()
    path = staging.staged_path(str(tmp_path / "stage"), 20537, 0, 2, 0)
    staging.write_slab(path, slab)
    back = staging.read_slab(path)
    assert back.intersections.tolist() == ["A", "Zürich-Ost"]
    assert back.intersections[back.intersection].tolist() == ["Zürich-Ost", "A", "Zürich-Ost"]
    assert back.direction.tolist() == [3, 0, 1]
    for name in ("ts_us", "vehicle_type", "lane", "day_of_week", "hour", "is_eval", "row"):
        np.testing.assert_array_equal(getattr(back.chunk, name), getattr(slab.chunk, name))
        assert getattr(back.chunk, name).dtype == getattr(slab.chunk, name).dtype
    np.testing.assert_array_equal(back.chunk.speed, slab.chunk.speed)  # NaN == NaN here
    np.testing.assert_array_equal(back.chunk.file_index, slab.chunk.file_index)


def test_concat_unifies_vocabularies_and_remove_deletes_the_directory(tmp_path):
    first, second = _slab(), _slab().take(np.array([1]))
    second = Slab(
        np.array(["0-first"], dtype=object), np.zeros(1, np.int32), second.direction, second.chunk
    )
    both = Slab.concat([first, second])
    assert both.intersections.tolist() == ["0-first", "A", "Zürich-Ost"]
    assert both.intersections[both.intersection].tolist() == [
        "Zürich-Ost",
        "A",
        "Zürich-Ost",
        "0-first",
    ]
    directory = str(tmp_path / "stage")
    staging.write_slab(staging.staged_path(directory, 1, 0, 0, 0), both)
    staging.remove(directory)
    assert not (tmp_path / "stage").exists()
    staging.remove(directory)  # absent: nothing to do
