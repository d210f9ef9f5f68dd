"""Executor of TrafficExampleGen: daily observation files to train/eval tf.Examples.

Pipeline (all steps columnar; per-row Python objects only for rejects and the
serialized examples handed to the TFRecord sink):

1. ``ReadAndParse`` -- one element per daily file (reshuffled across workers).
   The file is streamed as Arrow record batches; each batch is validated and parsed
   vectorised (``parsing``), local day/hour and the split are derived, and valid rows
   are cut into ``Chunk``s keyed by (intersection, direction, UTC day). Rejects and
   per-batch counts go to side outputs.
2. ``GroupByKey`` on (intersection, direction, UTC day): a group is bounded by one
   day of one approach, never the whole history, whatever the number of days.
3. ``LabelDayGroup`` -- concatenates the group's chunks, sorts by time, drops exact
   duplicates (first copy by file and row is kept, the others are rejected), labels
   every vehicle but the last with ``np.diff`` and encodes them in bulk
   (tfx_bsl's C++ RecordBatch -> tf.Example encoder). The group's last vehicle (its
   tail) and first instant go out as a one-row summary keyed by
   (intersection, direction).
4. ``GroupByKey`` on (intersection, direction) over those summaries -- bounded by
   the number of days, not rows -- then ``ResolveTails`` labels each day's tail
   with the next non-empty day's first vehicle (so labels are right across midnight
   and across file boundaries). Only the very last vehicle of each
   (intersection, direction) stays unlabeled; it is counted, never invented.
5. Examples go to GZIP TFRecords under ``Split-train`` / ``Split-eval``; rejects to
   GZIP JSON lines in the ``rejects`` artifact; all counts are summed with a global
   combine into ``counts.json`` there, which ``Do`` reads back to check the
   accounting identity and the reject threshold and to set custom properties.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from tfx import types
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from components.traffic_example_gen import accounting, artifacts, reading
from components.traffic_example_gen.chunks import Chunk
from components.traffic_example_gen.encoding import encode_by_split
from components.traffic_example_gen.labels import (
    DayTail,
    group_by_day,
    headways_seconds,
    resolve_tails,
    sort_and_dedup,
)
from components.traffic_example_gen.parsing import parse_batch
from components.traffic_example_gen.spans import DailyFile, describe_range, list_daily_files
from components.traffic_example_gen.splits import (
    DEFAULT_SPLIT_CONFIG,
    EVAL,
    SPLIT_NAMES,
    TRAIN,
    SplitRule,
    make_split_rule,
)
from components.traffic_example_gen.tfrecords import WriteTFRecordBlocks
from components.traffic_example_gen.timezones import check_timezone

# Component spec keys.
INPUT_BASE_KEY = "input_base"
SPAN_BEGIN_KEY = "span_begin"
SPAN_END_KEY = "span_end"
TIMEZONE_KEY = "timezone"
SPLIT_CONFIG_KEY = "split_config"
MAX_REJECT_FRACTION_KEY = "max_reject_fraction"
EXAMPLES_KEY = "examples"
REJECTS_KEY = "rejects"

EXAMPLES_FILE_PREFIX = "data_tfrecord"  # as stock ExampleGen
BOUNDARY_EXAMPLES_FILE_PREFIX = "data_tfrecord_day_boundaries"  # labeled last vehicles of days
_REJECTS = "rejects"
_COUNTS = "counts"
_TAILS = "tails"


def _count_rejects(counts: Counter, reasons: list[str], file_path: str) -> None:
    for reason, n in Counter(reasons).items():
        counts[accounting.rejected_key(reason)] += n
        counts[accounting.file_rejected_key(reason, file_path)] += n


class ReadAndParse(beam.DoFn):
    """file index -> ((intersection, direction, utc_day), Chunk); rejects; counts."""

    def __init__(self, files: list[DailyFile], timezone: str, split_rule: SplitRule):
        self._files = files
        self._timezone = timezone
        self._split_rule = split_rule

    def process(self, file_index: int):
        daily = self._files[file_index]
        first_row = 1
        for batch in reading.iter_record_batches(daily):
            parsed = parse_batch(
                batch,
                file_index=file_index,
                first_row=first_row,
                timezone=self._timezone,
                split_rule=self._split_rule,
            )
            first_row += batch.num_rows
            counts: Counter[str] = Counter({accounting.ROWS_READ: batch.num_rows})
            if len(parsed.rejects):
                _count_rejects(counts, parsed.rejects.reasons, daily.path)
                yield beam.pvalue.TaggedOutput(_REJECTS, parsed.rejects.records(daily.path))
            yield beam.pvalue.TaggedOutput(_COUNTS, dict(counts))
            yield from group_by_day(parsed)


def _emit_examples(intersection: str, direction: str, chunk: Chunk, labels, counts: Counter):
    for split, examples in encode_by_split(intersection, direction, chunk, labels).items():
        counts[accounting.EXAMPLES_TRAIN if split == TRAIN else accounting.EXAMPLES_EVAL] += len(
            examples
        )
        yield beam.pvalue.TaggedOutput(split, examples)


class LabelDayGroup(beam.DoFn):
    """One (intersection, direction, UTC day) group -> examples, duplicates, its tail."""

    def __init__(self, files: list[DailyFile]):
        self._paths = [f.path for f in files]

    def process(self, element: tuple[tuple[str, str, int], Any]):
        (intersection, direction, utc_day), chunks = element
        kept, duplicates, originals = sort_and_dedup(Chunk.concat(list(chunks)))
        counts: Counter[str] = Counter()
        if len(duplicates):
            records = [
                {
                    "file": self._paths[f],
                    "row": int(r),
                    "field": "*",
                    "reason": accounting.DUPLICATE,
                    "value": f"identical to {self._paths[of]} row {int(orow)}",
                }
                for f, r, of, orow in zip(
                    duplicates.file_index,
                    duplicates.row,
                    originals.file_index,
                    originals.row,
                    strict=True,
                )
            ]
            counts[accounting.rejected_key(accounting.DUPLICATE)] += len(records)
            for record in records:
                counts[accounting.file_rejected_key(accounting.DUPLICATE, record["file"])] += 1
            yield beam.pvalue.TaggedOutput(_REJECTS, records)
        if len(kept) > 1:
            head = kept.take(slice(0, -1))
            yield from _emit_examples(
                intersection, direction, head, headways_seconds(kept.ts_us), counts
            )
        tail = DayTail(utc_day, int(kept.ts_us[0]), kept.take(slice(-1, None)))
        yield beam.pvalue.TaggedOutput(_TAILS, ((intersection, direction), tail))
        yield beam.pvalue.TaggedOutput(_COUNTS, dict(counts))


class ResolveTails(beam.DoFn):
    """(intersection, direction) -> its day tails labeled across day boundaries."""

    def process(self, element: tuple[tuple[str, str], Any]):
        (intersection, direction), tails = element
        labeled, labels, unlabeled = resolve_tails(list(tails))
        counts: Counter[str] = Counter({accounting.UNLABELED_LAST_VEHICLES: unlabeled})
        if labeled is not None:
            yield from _emit_examples(intersection, direction, labeled, labels, counts)
        yield beam.pvalue.TaggedOutput(_COUNTS, dict(counts))


def _write_json(value: dict, path: str) -> None:
    with FileSystems.create(path) as handle:
        handle.write(json.dumps(value, sort_keys=True).encode())


def build_pipeline(
    pipeline: beam.Pipeline,
    files: list[DailyFile],
    timezone: str,
    split_rule: SplitRule,
    split_uris: dict[str, str],
    rejects_uri: str,
) -> None:
    """Adds the TrafficExampleGen transforms to ``pipeline``."""
    read = (
        pipeline
        | "FileIndices" >> beam.Create(list(range(len(files))))
        | "SpreadFiles" >> beam.Reshuffle()
        | "ReadAndParse"
        >> beam.ParDo(ReadAndParse(files, timezone, split_rule)).with_outputs(
            _REJECTS, _COUNTS, main="chunks"
        )
    )
    labeled = (
        read.chunks
        | "GroupByDay" >> beam.GroupByKey()
        | "LabelDayGroup"
        >> beam.ParDo(LabelDayGroup(files)).with_outputs(TRAIN, EVAL, _REJECTS, _TAILS, _COUNTS)
    )
    resolved = (
        labeled[_TAILS]
        | "GroupTails" >> beam.GroupByKey()
        | "ResolveTails" >> beam.ParDo(ResolveTails()).with_outputs(TRAIN, EVAL, _COUNTS)
    )
    # No Flatten before the sinks: the DirectRunner would buffer a flattened
    # PCollection in memory; writing each producer's output separately streams.
    for split in SPLIT_NAMES:
        for name, examples, prefix in (
            ("Days", labeled[split], EXAMPLES_FILE_PREFIX),
            ("DayBoundaries", resolved[split], BOUNDARY_EXAMPLES_FILE_PREFIX),
        ):
            _ = examples | f"Write{name}[{split}]" >> WriteTFRecordBlocks(
                os.path.join(split_uris[split], prefix)
            )
    _ = (
        (read[_REJECTS], labeled[_REJECTS])
        | "FlattenRejects" >> beam.Flatten()
        | "RejectLines" >> beam.FlatMap(lambda records: [json.dumps(r) for r in records])
        | "WriteRejects"
        >> beam.io.WriteToText(
            os.path.join(rejects_uri, artifacts.REJECTS_FILE_PREFIX),
            file_name_suffix=artifacts.REJECTS_FILE_SUFFIX,
        )
    )
    _ = (
        (read[_COUNTS], labeled[_COUNTS], resolved[_COUNTS])
        | "FlattenCounts" >> beam.Flatten()
        | "SumCounts" >> beam.CombineGlobally(accounting.merge_counts)
        | "WriteCounts" >> beam.Map(_write_json, os.path.join(rejects_uri, artifacts.COUNTS_FILE))
    )


class Executor(base_beam_executor.BaseBeamExecutor):
    """Runs the pipeline above, checks its accounting and records it on the artifacts."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        """Writes the Examples and TrafficRejects artifacts for the selected span."""
        self._log_startup(input_dict, output_dict, exec_properties)
        input_base = exec_properties[INPUT_BASE_KEY]
        span_begin = exec_properties.get(SPAN_BEGIN_KEY) or ""
        span_end = exec_properties.get(SPAN_END_KEY) or ""
        timezone = exec_properties[TIMEZONE_KEY]
        split_config = exec_properties.get(SPLIT_CONFIG_KEY) or DEFAULT_SPLIT_CONFIG
        max_reject_fraction = exec_properties.get(MAX_REJECT_FRACTION_KEY)
        if max_reject_fraction is None:
            max_reject_fraction = accounting.DEFAULT_MAX_REJECT_FRACTION
        examples = artifact_utils.get_single_instance(output_dict[EXAMPLES_KEY])
        rejects = artifact_utils.get_single_instance(output_dict[REJECTS_KEY])

        check_timezone(timezone)
        files = list_daily_files(input_base, span_begin, span_end)
        for daily in files:
            reading.check_required_columns(daily, reading.read_columns(daily))
        split_rule = make_split_rule(split_config, [f.day for f in files])
        examples.split_names = artifact_utils.encode_split_names(list(SPLIT_NAMES))
        split_uris = {s: artifact_utils.get_split_uri([examples], s) for s in SPLIT_NAMES}

        with self._make_beam_pipeline() as pipeline:
            build_pipeline(pipeline, files, timezone, split_rule, split_uris, rejects.uri)

        with fileio.open(os.path.join(rejects.uri, artifacts.COUNTS_FILE)) as handle:
            counts = json.loads(handle.read())
        summary = accounting.summarize(counts)
        if not summary[accounting.ROWS_READ]:
            raise ValueError(
                f"no data rows in the {len(files)} input file(s) of "
                f"{describe_range(input_base, span_begin, span_end)}"
            )
        accounting.check_identity(summary)

        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(
            examples, write_split.to_file_format_str(example_gen_pb2.FILE_FORMAT_UNSPECIFIED)
        )
        for artifact in (examples, rejects):
            for name, value in summary.items():
                artifact.set_int_custom_property(name, value)
            artifact.set_string_custom_property(SPAN_BEGIN_KEY, span_begin)
            artifact.set_string_custom_property(SPAN_END_KEY, span_end)
            artifact.set_string_custom_property("first_day", files[0].day.isoformat())
            artifact.set_string_custom_property("last_day", files[-1].day.isoformat())
            artifact.set_int_custom_property("input_files", len(files))
        examples.set_string_custom_property(TIMEZONE_KEY, timezone)
        examples.set_string_custom_property(SPLIT_CONFIG_KEY, split_config)
        accounting.check_reject_fraction(counts, max_reject_fraction, rejects.uri)
