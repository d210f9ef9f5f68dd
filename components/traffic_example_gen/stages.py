"""The Beam stages of TrafficExampleGen (worker-side code; imports no TFX).

1. ``ParseAndStage`` -- one element per daily file (``Create`` spreads them over the
   workers). The file is streamed as Arrow record batches; each batch is validated
   and parsed vectorised (``parsing``), local day/hour and the split are derived. The
   valid rows of the file are cut by (UTC day, approach shard) and each slice is
   written to the staging directory (``staging``); only ((UTC day, shard), path)
   goes downstream. Rejects and per-batch counts go to side outputs.
2. ``GroupByKey`` on (UTC day, shard): a few paths per group.
3. ``LabelDayGroup`` -- reads its slices, sorts them by (approach, time), drops exact
   duplicates under the ``exact`` rule (the first copy by file and row is kept, the
   others are rejected; ``keep`` rejects none) and counts same-second vehicles,
   labels every vehicle but each approach's last with ``np.diff`` and frames the
   examples as TFRecords in bulk (``example_wire``). Each approach's last vehicle
   (its day tail) and first instant go out as columnar ``DayTails``, keyed by a
   shard of the approach.
4. ``GroupByKey`` on that shard -- bounded by approaches x days, not rows -- then
   ``ResolveTails`` labels each day's tail with the approach's next non-empty day's
   first vehicle (so labels are right across midnight and file boundaries). The very
   last vehicle of each approach stays unlabeled, and so does (in 3. and 4.) a
   vehicle whose next vehicle lies beyond a local day with no input file (a gap in
   the export); both are counted, never invented.
5. Framed blocks go to GZIP TFRecords under ``Split-train`` / ``Split-eval``; rejects
   to GZIP JSON lines in the rejects artifact; all counts are summed with a global
   combine into ``counts.json`` there. The staging directory is deleted once every
   day group has been read.

Hourly counts (``data.kind: counts``, ``build_counts_pipeline``) need no labels and
no shuffle: ``ParseCounts`` parses one daily file (``counts``), drops its duplicates
(a file is one local day), encodes the examples with tfx_bsl's encoder and frames them
in blocks per split; rejects and counts go out as above.

What crosses stage boundaries is small and columnar (paths, per-approach tails,
count dictionaries, rejects), so the DirectRunner -- which holds every shuffled
element in its own process -- stays flat in memory as the input grows.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems

from components.traffic_example_gen import accounting, counts, coverage, reading, staging
from components.traffic_example_gen.chunks import MICROS_PER_DAY, Slab
from components.traffic_example_gen.example_wire import (
    ExampleFramer,
    WriteFramedTFRecords,
    frame_records,
)
from components.traffic_example_gen.labels import (
    approach_shards,
    label_day_slab,
    missing_days_before,
    resolve_slab_tails,
    same_second_vehicles,
    slab_of,
    sort_and_dedup_slab,
    split_by_key,
    with_cuts_as_gaps,
)
from components.traffic_example_gen.parsing import parse_daily_file
from components.traffic_example_gen.reading import DailyFile
from components.traffic_example_gen.splits import EVAL, SPLIT_NAMES, TRAIN, SplitRule

EXAMPLES_FILE_PREFIX = "data_tfrecord"  # as stock ExampleGen
BOUNDARY_EXAMPLES_FILE_PREFIX = "data_tfrecord_day_boundaries"  # labeled last vehicles of days
# Rows of one input file held before its slices are staged (bounds a worker's memory).
STAGE_ROWS = 1 << 20
# Day tails are grouped by this many approach shards (parallelism of ResolveTails).
TAIL_SHARDS = 8
# Hourly-count examples encoded and framed per element (bounds an element's size).
COUNT_BLOCK_ROWS = 1 << 16
# ParseAndStage's tagged outputs (read by build_pipeline, in_process and incremental).
REJECTS_TAG = "rejects"
COUNTS_TAG = "counts"
TAILS_TAG = "tails"
FILE_ERRORS_TAG = "file_errors"
LAST_VEHICLES_TAG = "last_vehicles"  # (file index, its last valid vehicle): likely cut days
# Written to the rejects artifact: one line per input file that could not be read.
FILE_ERRORS_FILE = "file_errors.json"


def _count_rejects(counts: Counter, reasons: list[str], file_path: str) -> None:
    for reason, n in Counter(reasons).items():
        counts[accounting.rejected_key(reason)] += n
        counts[accounting.file_rejected_key(reason, file_path)] += n


class ParseAndStage(beam.DoFn):
    """file index -> ((utc_day, shard), staged path); rejects; counts."""

    def __init__(
        self,
        files: list[DailyFile],
        timezone: str,
        split_rule: SplitRule,
        staging_dir: str,
        day_shards: int,
        by_file: bool = False,
    ):
        self._files = files
        self._timezone = timezone
        self._split_rule = split_rule
        self._staging_dir = staging_dir
        self._day_shards = day_shards
        # by_file (the day cache, ``incremental``): rows are grouped by (file, shard)
        # instead of (UTC day, shard), and rejects and counts are keyed by file index.
        self._by_file = by_file

    def process(self, file_index: int):
        if self._by_file:  # every file has a counts entry, even with no data row
            yield beam.pvalue.TaggedOutput(COUNTS_TAG, (file_index, {accounting.ROWS_READ: 0}))
        try:
            yield from self._parse_and_stage(file_index)
        except reading.InputFileError as err:  # reported by the executor, naming the file
            yield beam.pvalue.TaggedOutput(FILE_ERRORS_TAG, str(err))

    def _keyed(self, file_index: int, value):
        return (file_index, value) if self._by_file else value

    def _parse_and_stage(self, file_index: int):
        daily = self._files[file_index]
        pending: list[Slab] = []
        pending_rows = 0
        part = 0
        last_vehicle = None  # the file's last valid vehicle (likely truncated days)
        for rows_read, parsed in parse_daily_file(
            daily, file_index=file_index, timezone=self._timezone, split_rule=self._split_rule
        ):
            counts: Counter[str] = Counter({accounting.ROWS_READ: rows_read})
            if len(parsed.rejects):
                _count_rejects(counts, parsed.rejects.reasons, daily.path)
                yield beam.pvalue.TaggedOutput(
                    REJECTS_TAG, self._keyed(file_index, parsed.rejects.records(daily.path))
                )
            yield beam.pvalue.TaggedOutput(COUNTS_TAG, self._keyed(file_index, dict(counts)))
            if len(parsed.chunk):
                batch_last = int(parsed.chunk.ts_us.max())
                last_vehicle = batch_last if last_vehicle is None else max(last_vehicle, batch_last)
                pending.append(slab_of(parsed))
                pending_rows += len(parsed.chunk)
            if pending_rows >= STAGE_ROWS:
                yield from self._stage(file_index, part, Slab.concat(pending))
                pending, pending_rows, part = [], 0, part + 1
        if pending:
            yield from self._stage(file_index, part, Slab.concat(pending))
        if last_vehicle is not None:
            yield beam.pvalue.TaggedOutput(
                COUNTS_TAG,
                self._keyed(file_index, {coverage.last_vehicle_key(daily.path): last_vehicle}),
            )
            yield beam.pvalue.TaggedOutput(LAST_VEHICLES_TAG, (file_index, last_vehicle))

    def _stage(self, file_index: int, part: int, slab: Slab):
        if self._by_file:
            utc_day = np.full(len(slab), file_index, dtype=np.int64)
        else:
            utc_day = slab.chunk.ts_us // MICROS_PER_DAY
        key = utc_day * self._day_shards + approach_shards(slab, self._day_shards)
        for value, index in split_by_key(key):
            day, shard = divmod(value, self._day_shards)
            path = staging.staged_path(self._staging_dir, day, shard, file_index, part)
            staging.write_slab(path, slab.take(index))
            yield (day, shard), path


def _framed(framer: ExampleFramer, rows: Slab, labels: np.ndarray, counts: Counter):
    """(split, framed TFRecord block) for ``rows``, counting the examples."""
    block = framer.rows_per_block()
    for split, mask in ((TRAIN, ~rows.chunk.is_eval), (EVAL, rows.chunk.is_eval)):
        if not mask.any():
            continue
        part, part_labels = rows.take(mask), labels[mask]
        counts[accounting.EXAMPLES_TRAIN if split == TRAIN else accounting.EXAMPLES_EVAL] += len(
            part
        )
        for start in range(0, len(part), block):
            piece = part.take(slice(start, start + block))
            yield beam.pvalue.TaggedOutput(
                split,
                framer.frame(
                    piece.intersection,
                    piece.direction,
                    piece.chunk,
                    part_labels[start : start + block],
                ),
            )


class _Gaps:
    """The days each file's vehicles may not be labelled across: missing days, and the
    end of each likely truncated day (computed once, from the side input of each file's
    last vehicle)."""

    def __init__(self, files: list[DailyFile], timezone: str):
        self._files = files
        self._timezone = timezone
        self._gaps: np.ndarray | None = None

    def get(self, last_vehicles: dict[int, int]) -> np.ndarray:
        if self._gaps is None:
            cut = coverage.cut_file_indices(self._files, last_vehicles, self._timezone)
            self._gaps = with_cuts_as_gaps(missing_days_before([f.day for f in self._files]), cut)
        return self._gaps


def duplicate_records(
    paths: list[str], duplicates: Slab, originals: Slab, counts: Counter
) -> list[dict]:
    """Reject records of ``duplicates`` (naming the copy each repeats), counted in ``counts``."""
    records = [
        {
            "file": paths[f],
            "row": int(r),
            "field": "*",
            "reason": accounting.DUPLICATE,
            "value": f"identical to {paths[of]} row {int(orow)}",
        }
        for f, r, of, orow in zip(
            duplicates.chunk.file_index,
            duplicates.chunk.row,
            originals.chunk.file_index,
            originals.chunk.row,
            strict=True,
        )
    ]
    counts[accounting.rejected_key(accounting.DUPLICATE)] += len(records)
    for record in records:
        counts[accounting.file_rejected_key(accounting.DUPLICATE, record["file"])] += 1
    return records


class LabelDayGroup(beam.DoFn):
    """One (utc_day, shard) group -> framed examples, duplicates, the day tails."""

    def __init__(self, files: list[DailyFile], duplicates: str, timezone: str):
        self._paths = [f.path for f in files]
        self._gaps = _Gaps(files, timezone)
        self._duplicates = duplicates

    def process(self, element: tuple[tuple[int, int], Any], last_vehicles: dict[int, int]):
        (utc_day, _), paths = element
        slab = Slab.concat([staging.read_slab(p) for p in sorted(paths)])
        kept, duplicates, originals = sort_and_dedup_slab(slab, duplicates=self._duplicates)
        counts: Counter[str] = Counter()
        counts[accounting.SAME_SECOND_VEHICLES_KEPT] += same_second_vehicles(kept)
        if len(duplicates):
            yield beam.pvalue.TaggedOutput(
                REJECTS_TAG, duplicate_records(self._paths, duplicates, originals, counts)
            )
        day = label_day_slab(kept, utc_day, self._gaps.get(last_vehicles))
        counts[accounting.UNLABELED_BEFORE_GAP] += day.before_gap
        yield from _framed(ExampleFramer(kept.intersections), day.labeled, day.labels, counts)
        for shard, index in split_by_key(approach_shards(day.tails.rows, TAIL_SHARDS)):
            yield beam.pvalue.TaggedOutput(TAILS_TAG, (shard, day.tails.take(index)))
        yield beam.pvalue.TaggedOutput(COUNTS_TAG, dict(counts))


class ResolveTails(beam.DoFn):
    """An approach shard's day tails -> those labeled across day boundaries."""

    def __init__(self, files: list[DailyFile], timezone: str):
        self._gaps = _Gaps(files, timezone)

    def process(self, element: tuple[int, Any], last_vehicles: dict[int, int]):
        _, parts = element
        resolved = resolve_slab_tails(list(parts), self._gaps.get(last_vehicles))
        counts: Counter[str] = Counter(
            {
                accounting.UNLABELED_LAST_VEHICLES: resolved.last_vehicles,
                accounting.UNLABELED_BEFORE_GAP: resolved.before_gap,
            }
        )
        labeled = resolved.labeled
        if labeled is not None and len(labeled):
            framer = ExampleFramer(labeled.intersections)
            yield from _framed(framer, labeled, resolved.labels, counts)
        yield beam.pvalue.TaggedOutput(COUNTS_TAG, dict(counts))


def write_json(value: dict | list, path: str) -> None:
    """Writes ``value`` as sorted-key JSON to ``path`` (any Beam file system)."""
    with FileSystems.create(path) as handle:
        handle.write(json.dumps(value, sort_keys=True).encode())


def remove_staging(staging_dir: str, unused_done: list) -> None:
    """Removes the staging dir; ``unused_done``, a side input, only orders it after the writes."""
    staging.remove(staging_dir)


def build_pipeline(
    pipeline: beam.Pipeline,
    files: list[DailyFile],
    timezone: str,
    split_rule: SplitRule,
    split_uris: dict[str, str],
    rejects_uri: str,
    staging_dir: str,
    day_shards: int = 1,
    *,
    duplicates: str,
) -> None:
    """Adds the TrafficExampleGen transforms to ``pipeline``.

    Rows are staged under ``staging_dir`` (in the executor's temp dir; removed by the
    pipeline once read); ``day_shards`` splits each UTC day group by approach (see
    ``executor.day_shards_for``); ``duplicates`` is the duplicate rule
    (``accounting.DUPLICATE_RULES``).
    """
    read = (
        pipeline
        | "FileIndices" >> beam.Create(list(range(len(files))))
        | "ParseAndStage"
        >> (
            beam.ParDo(
                ParseAndStage(files, timezone, split_rule, staging_dir, day_shards)
            ).with_outputs(
                REJECTS_TAG, COUNTS_TAG, FILE_ERRORS_TAG, LAST_VEHICLES_TAG, main="staged"
            )
        )
    )
    last_vehicles = beam.pvalue.AsDict(read[LAST_VEHICLES_TAG])
    labeled = (
        read.staged
        | "GroupByDay" >> beam.GroupByKey()
        | "LabelDayGroup"
        >> beam.ParDo(LabelDayGroup(files, duplicates, timezone), last_vehicles).with_outputs(
            TRAIN, EVAL, REJECTS_TAG, TAILS_TAG, COUNTS_TAG
        )
    )
    _ = (
        pipeline
        | "StagingDir" >> beam.Create([staging_dir])
        | "RemoveStaging" >> beam.Map(remove_staging, beam.pvalue.AsList(labeled[COUNTS_TAG]))
    )
    resolved = (
        labeled[TAILS_TAG]
        | "GroupTails" >> beam.GroupByKey()
        | "ResolveTails"
        >> beam.ParDo(ResolveTails(files, timezone), last_vehicles).with_outputs(
            TRAIN, EVAL, COUNTS_TAG
        )
    )
    # No Flatten before the sinks: the DirectRunner would buffer a flattened
    # PCollection in memory; writing each producer's output separately streams.
    for split in SPLIT_NAMES:
        for name, blocks, prefix in (
            ("Days", labeled[split], EXAMPLES_FILE_PREFIX),
            ("DayBoundaries", resolved[split], BOUNDARY_EXAMPLES_FILE_PREFIX),
        ):
            _ = blocks | f"Write{name}[{split}]" >> WriteFramedTFRecords(
                os.path.join(split_uris[split], prefix)
            )
    _write_accounting(
        (read[REJECTS_TAG], labeled[REJECTS_TAG]),
        read[FILE_ERRORS_TAG],
        (read[COUNTS_TAG], labeled[COUNTS_TAG], resolved[COUNTS_TAG]),
        rejects_uri,
    )


def _write_accounting(rejects: tuple, file_errors, counts: tuple, rejects_uri: str) -> None:
    """Writes rejects (GZIP JSON lines), unreadable files and summed counts to the
    rejects artifact."""
    _ = (
        rejects
        | "FlattenRejects" >> beam.Flatten()
        | "RejectLines" >> beam.FlatMap(lambda records: [json.dumps(r) for r in records])
        | "WriteRejects"
        >> beam.io.WriteToText(
            os.path.join(rejects_uri, accounting.REJECTS_FILE_PREFIX),
            file_name_suffix=accounting.REJECTS_FILE_SUFFIX,
        )
    )
    _ = (
        file_errors
        | "CollectFileErrors" >> beam.combiners.ToList()
        | "WriteFileErrors"
        >> beam.Map(
            lambda errors: write_json(sorted(errors), os.path.join(rejects_uri, FILE_ERRORS_FILE))
        )
    )
    _ = (
        counts
        | "FlattenCounts" >> beam.Flatten()
        | "SumCounts" >> beam.CombineGlobally(accounting.merge_counts)
        | "WriteCounts" >> beam.Map(write_json, os.path.join(rejects_uri, accounting.COUNTS_FILE))
    )


class ParseCounts(beam.DoFn):
    """file index -> framed example blocks per split; rejects; counts (hourly counts)."""

    def __init__(self, files: list[DailyFile], timezone: str, split_rule: SplitRule):
        self._files = files
        self._timezone = timezone
        self._split_rule = split_rule
        self._encoder = None

    def setup(self):
        # tfx_bsl imports no TensorFlow; the encoder is built on the worker (not pickled).
        from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

        self._encoder = RecordBatchToExamplesEncoder()

    def process(self, file_index: int):
        try:
            yield from self._parse(file_index)
        except reading.InputFileError as err:  # reported by the executor, naming the file
            yield beam.pvalue.TaggedOutput(FILE_ERRORS_TAG, str(err))

    def _parse(self, file_index: int):
        daily = self._files[file_index]
        parts: list[counts.CountRows] = []
        for rows_read, valid, rejects in counts.parse_counts_file(daily, self._timezone):
            tally: Counter[str] = Counter({accounting.ROWS_READ: rows_read})
            if len(rejects):
                _count_rejects(tally, rejects.reasons, daily.path)
                yield beam.pvalue.TaggedOutput(REJECTS_TAG, rejects.records(daily.path))
            yield beam.pvalue.TaggedOutput(COUNTS_TAG, dict(tally))
            parts.append(valid)
        if not parts:
            return
        kept, duplicates = counts.dedup(counts.CountRows.concat(parts))
        tally = Counter()
        if len(duplicates):
            _count_rejects(tally, duplicates.reasons, daily.path)
            yield beam.pvalue.TaggedOutput(REJECTS_TAG, duplicates.records(daily.path))
        is_eval = self._split_rule.eval_mask(
            kept.intersection, counts.direction_names(kept), kept.ts_us, kept.yyyymmdd
        )
        for split, mask in ((TRAIN, ~is_eval), (EVAL, is_eval)):
            part = kept.take(mask)
            if not len(part):
                continue
            tally[accounting.EXAMPLES_TRAIN if split == TRAIN else accounting.EXAMPLES_EVAL] += len(
                part
            )
            tally[accounting.VEHICLES_COUNTED] += int(part.count.sum())
            for start in range(0, len(part), COUNT_BLOCK_ROWS):
                block = part.take(slice(start, start + COUNT_BLOCK_ROWS))
                serialized = self._encoder.encode(counts.to_record_batch(block))
                yield beam.pvalue.TaggedOutput(split, frame_records(serialized))
        yield beam.pvalue.TaggedOutput(COUNTS_TAG, dict(tally))


def build_counts_pipeline(
    pipeline: beam.Pipeline,
    files: list[DailyFile],
    timezone: str,
    split_rule: SplitRule,
    split_uris: dict[str, str],
    rejects_uri: str,
) -> None:
    """Adds the hourly-counts TrafficExampleGen transforms to ``pipeline``."""
    parsed = (
        pipeline
        | "FileIndices" >> beam.Create(list(range(len(files))))
        | "ParseCounts"
        >> (
            beam.ParDo(ParseCounts(files, timezone, split_rule)).with_outputs(
                TRAIN, EVAL, REJECTS_TAG, COUNTS_TAG, FILE_ERRORS_TAG
            )
        )
    )
    for split in SPLIT_NAMES:
        _ = parsed[split] | f"Write[{split}]" >> WriteFramedTFRecords(
            os.path.join(split_uris[split], EXAMPLES_FILE_PREFIX)
        )
    _write_accounting(
        (parsed[REJECTS_TAG],), parsed[FILE_ERRORS_TAG], (parsed[COUNTS_TAG],), rejects_uri
    )
