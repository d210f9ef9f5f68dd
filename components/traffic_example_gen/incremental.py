"""The Beam stages of TrafficExampleGen with a day cache (worker-side; imports no TFX).

Same parsing, duplicates and labels as ``stages.build_pipeline``, but rows are grouped
by input file (one local day) instead of UTC day, so that each day's work is a unit
that can be kept (``day_cache``):

1. ``ParseAndStage`` (``by_file``) parses only the days to ingest, staging their rows
   by (file, approach shard); rejects and counts are keyed by file.
2. ``LabelFileGroup`` sorts, deduplicates and labels each (file, shard) group: every
   vehicle whose next vehicle is in the same file (local days are disjoint, contiguous
   intervals, so that next vehicle is the real one); it writes the framed examples and
   the group's tails straight into the day's attempt directory, and sends the tails on.
3. ``LoadTails`` reads the tails of the reused days from their entries (their file
   index and split set for this run).
4. ``ResolveTails`` (as in ``stages``) labels every day's tails across day boundaries,
   over the whole window, and writes them as the boundary examples of this run's splits.
5. Per new day, counts are summed and rejects collected into its attempt directory;
   the run's tail counts go to ``tail_counts_path``, unreadable files to
   ``file_errors_path``. The executor then commits the new days' entries and places
   every day's files into the artifacts.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems

from components.traffic_example_gen import accounting, day_cache, stages, staging
from components.traffic_example_gen.chunks import Slab
from components.traffic_example_gen.example_wire import ExampleFramer, WriteFramedTFRecords
from components.traffic_example_gen.labels import (
    DayTails,
    approach_shards,
    label_day_slab,
    same_second_vehicles,
    sort_and_dedup_slab,
    split_by_key,
)
from components.traffic_example_gen.reading import DailyFile
from components.traffic_example_gen.splits import EVAL, SPLIT_NAMES, TRAIN, SplitRule
from components.traffic_example_gen.stages import (
    BOUNDARY_EXAMPLES_FILE_PREFIX,
    COUNTS_TAG,
    FILE_ERRORS_TAG,
    LAST_VEHICLES_TAG,
    REJECTS_TAG,
    TAILS_TAG,
    ParseAndStage,
    ResolveTails,
    duplicate_records,
    remove_staging,
    write_json,
)


class LabelFileGroup(beam.DoFn):
    """One (file, shard) group -> its body examples and tails written to the day's
    attempt dir; (file, rejects), (file, counts), (tail shard, tails) downstream."""

    def __init__(self, files: list[DailyFile], duplicates: str, attempt_dirs: dict[int, str]):
        self._paths = [f.path for f in files]
        self._duplicates = duplicates
        self._attempt_dirs = attempt_dirs

    def process(self, element: tuple[tuple[int, int], Any]):
        (file_index, shard), paths = element
        slab = Slab.concat([staging.read_slab(p) for p in sorted(paths)])
        kept, duplicates, originals = sort_and_dedup_slab(slab, duplicates=self._duplicates)
        counts: Counter[str] = Counter()
        counts[accounting.SAME_SECOND_VEHICLES_KEPT] += same_second_vehicles(kept)
        if len(duplicates):
            records = duplicate_records(self._paths, duplicates, originals, counts)
            yield beam.pvalue.TaggedOutput(REJECTS_TAG, (file_index, records))
        # One file: no day without a file lies between a vehicle and its next one.
        day = label_day_slab(kept, file_index, np.zeros(len(self._paths), dtype=np.int64))
        counts[day_cache.BODY_EXAMPLES] += len(day.labeled)
        counts[day_cache.TAIL_VEHICLES] += len(day.tails)
        where = self._attempt_dirs[file_index]
        if len(day.labeled):
            name = day_cache.shard_name(day_cache.EXAMPLES_PREFIX, shard, day_cache.EXAMPLES_SUFFIX)
            _write_examples(FileSystems.join(where, name), day.labeled, day.labels)
        if len(day.tails):
            name = day_cache.shard_name(day_cache.TAILS_PREFIX, shard, day_cache.TAILS_SUFFIX)
            staging.write_slab(
                FileSystems.join(where, name),
                day.tails.rows,
                {day_cache.TAIL_FIRST_TS: day.tails.first_ts_us},
            )
        for shard_tails in tail_shards(day.tails):
            yield beam.pvalue.TaggedOutput(TAILS_TAG, shard_tails)
        yield beam.pvalue.TaggedOutput(COUNTS_TAG, (file_index, dict(counts)))


def _write_examples(path: str, rows: Slab, labels: np.ndarray) -> None:
    """The rows' framed tf.Examples as one GZIP TFRecord file."""
    framer = ExampleFramer(rows.intersections)
    block = framer.rows_per_block()
    with FileSystems.create(path) as handle:  # .gz: Beam compresses (CompressionTypes.AUTO)
        for start in range(0, len(rows), block):
            piece = rows.take(slice(start, start + block))
            handle.write(
                framer.frame(
                    piece.intersection,
                    piece.direction,
                    piece.chunk,
                    labels[start : start + block],
                )
            )


def tail_shards(tails: DayTails) -> list[tuple[int, DayTails]]:
    """(tail shard, tails) pairs, by approach (as ``stages.LabelDayGroup`` shards them)."""
    shards = approach_shards(tails.rows, stages.TAIL_SHARDS)
    return [(shard, tails.take(index)) for shard, index in split_by_key(shards)]


class LoadTails(beam.DoFn):
    """(file index, tails paths) of a reused day -> (tail shard, tails) for this run."""

    def __init__(self, files: list[DailyFile], split_rule: SplitRule):
        self._files = files
        self._split_rule = split_rule

    def process(self, element: tuple[int, list[str]]):
        file_index, paths = element
        day = self._files[file_index].day
        for path in paths:
            rows, extra = staging.read_slab_with(path, (day_cache.TAIL_FIRST_TS,))
            n = len(rows)
            rows.chunk.file_index = np.full(n, file_index, dtype=np.int32)
            rows.chunk.is_eval = np.full(n, self._split_rule.split_of_day(day) == EVAL)
            tails = DayTails(
                utc_day=np.full(n, file_index, dtype=np.int64),
                first_ts_us=extra[day_cache.TAIL_FIRST_TS].astype(np.int64),
                first_file_index=np.full(n, file_index, dtype=np.int32),
                rows=rows,
            )
            yield from tail_shards(tails)


def write_day_counts(element: tuple[int, dict], attempt_dirs: dict[int, str]) -> None:
    """(file index, its summed counts) -> ``counts.json`` in the new day's attempt dir."""
    file_index, counts = element
    write_json(counts, FileSystems.join(attempt_dirs[file_index], day_cache.COUNTS_FILE))


def write_day_rejects(element: tuple[int, Any], attempt_dirs: dict[int, str]) -> None:
    """(file index, its reject record lists) -> the new day's ``rejects.jsonl.gz``."""
    file_index, parts = element
    lines = [json.dumps(r) + "\n" for records in parts for r in records]
    if not lines:
        return
    path = FileSystems.join(attempt_dirs[file_index], day_cache.REJECTS_FILE)
    with FileSystems.create(path) as handle:  # .gz: Beam compresses (CompressionTypes.AUTO)
        handle.write("".join(lines).encode())


@dataclasses.dataclass(frozen=True)
class CachedRun:
    """What the day-cache stages of one run read and write (Beam or ``in_process``).

    ``new_days``: {file index: attempt dir} of the days to ingest; ``reused_days``:
    {file index: (its tails files, its last vehicle or None)} of the days taken from
    the cache. The boundary examples of all days go to ``split_uris``; the run's tail
    counts to ``tail_counts_path``, unreadable files to ``file_errors_path``.
    """

    files: list[DailyFile]
    new_days: dict[int, str]
    reused_days: dict[int, tuple[list[str], int | None]]
    timezone: str
    split_rule: SplitRule
    split_uris: dict[str, str]
    staging_dir: str
    tail_counts_path: str
    file_errors_path: str
    duplicates: str


def build_cached_pipeline(pipeline: beam.Pipeline, run: CachedRun, day_shards: int = 1) -> None:
    """Adds the day-cache TrafficExampleGen transforms of ``run`` to ``pipeline``."""
    files, new_days, reused_days = run.files, run.new_days, run.reused_days
    timezone, split_rule, split_uris = run.timezone, run.split_rule, run.split_uris
    staging_dir, duplicates = run.staging_dir, run.duplicates
    tail_counts_path, file_errors_path = run.tail_counts_path, run.file_errors_path
    read = (
        pipeline
        | "FileIndices" >> beam.Create(sorted(new_days))
        | "ParseAndStage"
        >> beam.ParDo(
            ParseAndStage(files, timezone, split_rule, staging_dir, day_shards, by_file=True)
        ).with_outputs(REJECTS_TAG, COUNTS_TAG, FILE_ERRORS_TAG, LAST_VEHICLES_TAG, main="staged")
    )
    reused_last = [(i, last) for i, (_, last) in sorted(reused_days.items()) if last is not None]
    last_vehicles = beam.pvalue.AsDict(
        (read[LAST_VEHICLES_TAG], pipeline | "ReusedLastVehicles" >> beam.Create(reused_last))
        | "AllLastVehicles" >> beam.Flatten()
    )
    labeled = (
        read.staged
        | "GroupByFile" >> beam.GroupByKey()
        | "LabelFileGroup"
        >> beam.ParDo(LabelFileGroup(files, duplicates, new_days)).with_outputs(
            REJECTS_TAG, TAILS_TAG, COUNTS_TAG
        )
    )
    _ = (
        pipeline
        | "StagingDir" >> beam.Create([staging_dir])
        | "RemoveStaging" >> beam.Map(remove_staging, beam.pvalue.AsList(labeled[COUNTS_TAG]))
    )
    reused_tails = (
        pipeline
        | "ReusedDays" >> beam.Create([(i, t) for i, (t, _) in sorted(reused_days.items())])
        | "LoadTails" >> beam.ParDo(LoadTails(files, split_rule))
    )
    resolved = (
        (labeled[TAILS_TAG], reused_tails)
        | "AllTails" >> beam.Flatten()
        | "GroupTails" >> beam.GroupByKey()
        | "ResolveTails"
        >> beam.ParDo(ResolveTails(files, timezone), last_vehicles).with_outputs(
            TRAIN, EVAL, COUNTS_TAG
        )
    )
    for split in SPLIT_NAMES:
        _ = resolved[split] | f"WriteDayBoundaries[{split}]" >> WriteFramedTFRecords(
            FileSystems.join(split_uris[split], BOUNDARY_EXAMPLES_FILE_PREFIX)
        )
    _ = (
        resolved[COUNTS_TAG]
        | "SumTailCounts" >> beam.CombineGlobally(accounting.merge_counts)
        | "WriteTailCounts" >> beam.Map(write_json, tail_counts_path)
    )
    _ = (
        (read[COUNTS_TAG], labeled[COUNTS_TAG])
        | "FlattenDayCounts" >> beam.Flatten()
        | "SumDayCounts" >> beam.CombinePerKey(accounting.merge_counts)
        | "WriteDayCounts" >> beam.Map(write_day_counts, new_days)
    )
    _ = (
        (read[REJECTS_TAG], labeled[REJECTS_TAG])
        | "FlattenDayRejects" >> beam.Flatten()
        | "GroupDayRejects" >> beam.GroupByKey()
        | "WriteDayRejects" >> beam.Map(write_day_rejects, new_days)
    )
    _ = (
        read[FILE_ERRORS_TAG]
        | "CollectFileErrors" >> beam.combiners.ToList()
        | "WriteFileErrors" >> beam.Map(lambda errors: write_json(sorted(errors), file_errors_path))
    )
