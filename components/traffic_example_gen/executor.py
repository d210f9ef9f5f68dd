"""Executor of TrafficExampleGen: daily observation files to train/eval tf.Examples.

The Beam pipeline itself is in ``stages`` (worker-side code that imports no TFX):
parse and validate each daily file vectorised, stage its rows by (UTC day, approach
shard) as Arrow files, label each day group with the time to the next vehicle of the
same approach, resolve each day's last vehicle against the next day, and write
framed GZIP TFRecords, rejects and counts. ``Do`` lists and checks the input files,
runs that pipeline, reads back ``counts.json`` to check the accounting identity and
the reject threshold, and records the counts as custom properties.

``data_kind`` ``counts`` (hourly counts) runs ``build_counts_pipeline`` instead: no
labels, no staging; the Examples artifact also records ``vehicles_counted`` and
``data_kind``.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import uuid
from typing import Any

from apache_beam.io.filesystems import FileSystems
from tfx import types
from tfx.components.example_gen import write_split
from tfx.components.util import examples_utils
from tfx.dsl.components.base import base_beam_executor
from tfx.dsl.io import fileio
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils

from components.traffic_example_gen import (
    accounting,
    coverage,
    day_cache,
    fingerprints,
    in_process,
    properties,
    reading,
    staging,
    window,
)
from components.traffic_example_gen.incremental import CachedRun, build_cached_pipeline
from components.traffic_example_gen.inputs import check_inputs, describe_range, select_window
from components.traffic_example_gen.parsing import check_timezone
from components.traffic_example_gen.reading import DailyFile
from components.traffic_example_gen.splits import (
    DEFAULT_SPLIT_CONFIG,
    SPLIT_NAMES,
    TIME,
    SplitRule,
)
from components.traffic_example_gen.stages import (  # noqa: F401  (re-exported)
    BOUNDARY_EXAMPLES_FILE_PREFIX,
    EXAMPLES_FILE_PREFIX,
    FILE_ERRORS_FILE,
    build_counts_pipeline,
    build_pipeline,
)
from transforms import features

# Component spec keys.
INPUT_BASE_KEY = "input_base"
SPAN_BEGIN_KEY = properties.SPAN_BEGIN
SPAN_END_KEY = properties.SPAN_END
TIMEZONE_KEY = "timezone"
SPLIT_CONFIG_KEY = properties.SPLIT_CONFIG
MAX_REJECT_FRACTION_KEY = "max_reject_fraction"
DATA_KIND_KEY = "data_kind"
DUPLICATES_KEY = "duplicates"
MAX_MISSING_HOURS_KEY = "max_missing_hours"
WINDOW_DAYS_KEY = properties.WINDOW_DAYS
AS_OF_KEY = properties.AS_OF
MAX_MISSING_DAYS_KEY = "max_missing_days"
# Not read by the executor: a runner that caches executions by their parameters sets it
# to a digest of the window's file listing, so a new or rewritten day is a cache miss.
INPUT_TOKEN_KEY = "input_token"
# The day cache's root (``day_cache``), owned by the runner (under the pipeline root);
# '' or unset: every day is ingested. Used for events with a time split.
DAY_CACHE_KEY = "day_cache"
# Entries of days more than this many days before the window's first day are deleted
# at the end of a successful run (``day_cache.prune``); None: window.DEFAULT_CACHE_KEEP_DAYS.
CACHE_KEEP_DAYS_KEY = "cache_keep_days"
EXAMPLES_KEY = "examples"
REJECTS_KEY = "rejects"

# A UTC day group is split into approach shards of about this many input bytes
# (~1M rows of CSV), so a worker's memory is bounded however dense the city is.
DAY_GROUP_BYTES = 64 << 20
# In the rejects artifact of a day-cache run: one line per day, ingested or reused.
DAYS_FILE = "days.json"
PRUNED_FILE = "pruned.json"  # with a day cache: {"before": ISO day, "days": [ISO days]}
TAIL_COUNTS_FILE = "tail_counts.json"  # in the executor's temp dir


def check_data_kind(data_kind: str) -> None:
    """Raises ValueError unless ``data_kind`` is one of ``features.DATA_KINDS``."""
    if data_kind not in features.DATA_KINDS:
        raise ValueError(f"data_kind={data_kind!r} is not one of {features.DATA_KINDS}")


def day_shards_for(files: list[DailyFile]) -> int:
    """Approach shards per UTC day: the largest input file over ``DAY_GROUP_BYTES``."""
    sizes = [
        m.size_in_bytes for r in FileSystems.match([f.path for f in files]) for m in r.metadata_list
    ]
    return max(1, math.ceil(max(sizes, default=0) / DAY_GROUP_BYTES))


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
        data_kind = exec_properties.get(DATA_KIND_KEY) or features.DATA_KIND_EVENTS
        duplicates = exec_properties.get(DUPLICATES_KEY) or accounting.DEFAULT_DUPLICATES
        accounting.check_duplicates_rule(duplicates)
        examples = artifact_utils.get_single_instance(output_dict[EXAMPLES_KEY])
        rejects = artifact_utils.get_single_instance(output_dict[REJECTS_KEY])

        check_timezone(timezone)
        check_data_kind(data_kind)
        window_days = int(exec_properties.get(WINDOW_DAYS_KEY) or 0)
        resolved = None
        selected = None
        if window_days:
            if span_begin or span_end:
                raise ValueError("window_days and span_begin/span_end exclude each other")
            max_missing_days = exec_properties.get(MAX_MISSING_DAYS_KEY)
            selected, resolved = select_window(
                input_base,
                window_days,
                timezone,
                datetime.datetime.now(datetime.timezone.utc),
                exec_properties.get(AS_OF_KEY) or "",
                window.DEFAULT_MAX_MISSING_DAYS
                if max_missing_days is None
                else int(max_missing_days),
            )
            span_begin, span_end = resolved.first.isoformat(), resolved.last.isoformat()
        files, split_rule = check_inputs(
            input_base, span_begin, span_end, split_config, data_kind, selected
        )
        cache_root = exec_properties.get(DAY_CACHE_KEY) or ""
        use_cache = bool(
            cache_root and data_kind == features.DATA_KIND_EVENTS and split_rule.kind == TIME
        )
        # Before reading: the fingerprint is of the bytes this run ingests.
        input_fingerprints = (
            fingerprints.fingerprints_json(files) if (resolved or use_cache) else ""
        )
        examples.split_names = artifact_utils.encode_split_names(list(SPLIT_NAMES))
        split_uris = {s: artifact_utils.get_split_uri([examples], s) for s in SPLIT_NAMES}
        ingested, reused = len(files), 0

        if use_cache:
            ingested, reused, ingest_path = self._run_with_day_cache(
                files,
                cache_root,
                json.loads(input_fingerprints),
                timezone,
                split_rule,
                split_uris,
                rejects.uri,
                duplicates,
            )
            examples.set_string_custom_property(properties.INGEST_PATH, ingest_path)
        elif data_kind == features.DATA_KIND_COUNTS:
            with self._make_beam_pipeline() as pipeline:
                build_counts_pipeline(
                    pipeline, files, timezone, split_rule, split_uris, rejects.uri
                )
        else:
            staging_dir = staging.staging_dir_under(self._get_tmp_dir())
            try:
                with self._make_beam_pipeline() as pipeline:
                    build_pipeline(
                        pipeline,
                        files,
                        timezone,
                        split_rule,
                        split_uris,
                        rejects.uri,
                        staging_dir,
                        day_shards=day_shards_for(files),
                        duplicates=duplicates,
                    )
            finally:
                staging.remove(staging_dir)

        with fileio.open(os.path.join(rejects.uri, FILE_ERRORS_FILE)) as handle:
            reading.raise_file_errors(json.loads(handle.read()))
        with fileio.open(os.path.join(rejects.uri, accounting.COUNTS_FILE)) as handle:
            counts = json.loads(handle.read())
        summary = accounting.summarize(counts, data_kind)
        if not summary[accounting.ROWS_READ]:
            raise ValueError(
                f"no data rows in the {len(files)} input file(s) of "
                f"{describe_range(input_base, span_begin, span_end)}"
            )
        accounting.check_identity(summary)
        short_days = []
        if data_kind == features.DATA_KIND_EVENTS:
            short_days = coverage.likely_truncated_days(
                files, coverage.last_vehicles_of(counts), timezone
            )

        examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
        examples_utils.set_file_format(
            examples, write_split.to_file_format_str(example_gen_pb2.FILE_FORMAT_UNSPECIFIED)
        )
        for artifact in (examples, rejects):
            for name, value in summary.items():
                artifact.set_int_custom_property(name, value)
            artifact.set_string_custom_property(
                SPAN_BEGIN_KEY, exec_properties.get(SPAN_BEGIN_KEY) or ""
            )
            artifact.set_string_custom_property(
                SPAN_END_KEY, exec_properties.get(SPAN_END_KEY) or ""
            )
            artifact.set_string_custom_property(properties.FIRST_DAY, files[0].day.isoformat())
            artifact.set_string_custom_property(properties.LAST_DAY, files[-1].day.isoformat())
            artifact.set_int_custom_property(properties.INPUT_FILES, len(files))
        examples.set_string_custom_property(TIMEZONE_KEY, timezone)
        if resolved is not None:
            record_window(
                examples,
                resolved,
                (ingested, reused),
                input_fingerprints,
                exec_properties.get(AS_OF_KEY),
            )
        examples.set_string_custom_property(SPLIT_CONFIG_KEY, split_config)
        if data_kind != features.DATA_KIND_EVENTS:  # events artifacts stay as they were
            examples.set_string_custom_property(DATA_KIND_KEY, data_kind)
        else:
            examples.set_string_custom_property(DUPLICATES_KEY, duplicates)
            examples.set_string_custom_property(
                coverage.LIKELY_TRUNCATED_DAYS, coverage.to_json(short_days)
            )
        accounting.check_reject_fraction(counts, max_reject_fraction, rejects.uri, data_kind)
        max_missing_hours = exec_properties.get(MAX_MISSING_HOURS_KEY)
        coverage.check_missing_hours(
            short_days, None if max_missing_hours is None else float(max_missing_hours)
        )
        if use_cache and resolved is not None:  # the run succeeded: prune the old days
            keep = exec_properties.get(CACHE_KEEP_DAYS_KEY)
            keep = window.DEFAULT_CACHE_KEEP_DAYS if keep is None else int(keep)
            before = resolved.first - datetime.timedelta(days=keep)
            pruned = day_cache.prune(cache_root, before)
            with fileio.open(os.path.join(rejects.uri, PRUNED_FILE), "w") as handle:
                days = [d.isoformat() for d in pruned]
                handle.write(json.dumps({"before": before.isoformat(), "days": days}))
            for artifact in (examples, rejects):
                artifact.set_int_custom_property(properties.CACHE_DAYS_PRUNED, len(pruned))
                artifact.set_string_custom_property(
                    properties.CACHE_PRUNED_BEFORE, before.isoformat()
                )

    def _run_with_day_cache(
        self,
        files: list[DailyFile],
        cache_root: str,
        fingerprint_by_day: dict[str, dict],
        timezone: str,
        split_rule: SplitRule,
        split_uris: dict[str, str],
        rejects_uri: str,
        duplicates: str,
    ) -> tuple[int, int, str]:
        """Ingests the days without a cache entry, reuses the others (``day_cache``),
        and writes the run's examples, rejects, ``counts.json`` and ``days.json``.
        Returns (days ingested, days reused, ``in_process.IN_PROCESS`` or ``BEAM``)."""
        attempt = uuid.uuid4().hex  # a retried execution writes a fresh attempt
        keys = [
            day_cache.entry_key(fingerprint_by_day[f.day.isoformat()], f.path, timezone, duplicates)
            for f in files
        ]
        found = [
            day_cache.read_entry(cache_root, f.day, k) for f, k in zip(files, keys, strict=True)
        ]
        new_days = {
            i: day_cache.attempt_dir(cache_root, f.day, keys[i], attempt)
            for i, f in enumerate(files)
            if found[i] is None
        }
        reused_days = {
            i: (list(e.tails), e.counts.get(coverage.last_vehicle_key(files[i].path)))
            for i, e in enumerate(found)
            if e is not None
        }
        staging_dir = staging.staging_dir_under(self._get_tmp_dir())
        tail_counts_path = os.path.join(self._get_tmp_dir(), TAIL_COUNTS_FILE)
        run = CachedRun(
            files,
            new_days,
            reused_days,
            timezone,
            split_rule,
            split_uris,
            staging_dir,
            tail_counts_path,
            os.path.join(rejects_uri, FILE_ERRORS_FILE),
            duplicates,
        )
        new_bytes = sum(int(fingerprint_by_day[files[i].day.isoformat()]["size"]) for i in new_days)
        path = in_process.BEAM
        if in_process.fits(len(new_days), new_bytes, DAY_GROUP_BYTES, self._beam_pipeline_args):
            path = in_process.IN_PROCESS
        try:
            if path == in_process.IN_PROCESS:
                in_process.run_cached(run)
            else:
                with self._make_beam_pipeline() as pipeline:
                    build_cached_pipeline(
                        pipeline, run, day_shards_for([files[i] for i in new_days] or files)
                    )
        finally:
            staging.remove(staging_dir)
        with fileio.open(os.path.join(rejects_uri, FILE_ERRORS_FILE)) as handle:
            reading.raise_file_errors(json.loads(handle.read()))
        entries = [
            e or day_cache.commit_entry(cache_root, f.day, keys[i], attempt, f.path)
            for i, (f, e) in enumerate(zip(files, found, strict=True))
        ]
        splits = [split_rule.split_of_day(f.day) for f in files]
        day_cache.place(
            entries,
            splits,
            split_uris,
            rejects_uri,
            EXAMPLES_FILE_PREFIX,
            accounting.REJECTS_FILE_PREFIX,
        )
        with fileio.open(tail_counts_path) as handle:
            tail_counts = json.loads(handle.read())
        day_counts = [
            day_cache.run_counts(e.counts, s) for e, s in zip(entries, splits, strict=True)
        ]
        counts = accounting.merge_counts([*day_counts, tail_counts])
        days = day_cache.days_record(files, entries, set(reused_days), fingerprint_by_day)
        for name, value in ((accounting.COUNTS_FILE, counts), (DAYS_FILE, days)):
            with fileio.open(os.path.join(rejects_uri, name), "w") as handle:
                handle.write(json.dumps(value, sort_keys=True))
        return len(new_days), len(reused_days), path


def record_window(
    examples: types.Artifact,
    resolved: window.Window,
    ingested_reused: tuple[int, int],
    input_fingerprints: str,
    as_of: str | None,
) -> None:
    """Records the resolved window, its missing days and the files' fingerprints."""
    examples.set_int_custom_property(properties.WINDOW_DAYS, resolved.n_days)
    examples.set_string_custom_property(properties.AS_OF, as_of or "")
    examples.set_string_custom_property(properties.WINDOW_FIRST, resolved.first.isoformat())
    examples.set_string_custom_property(properties.WINDOW_LAST, resolved.last.isoformat())
    examples.set_string_custom_property(
        properties.MISSING_DAYS, json.dumps([d.isoformat() for d in resolved.missing])
    )
    examples.set_int_custom_property(properties.DAYS_INGESTED, ingested_reused[0])
    examples.set_int_custom_property(properties.DAYS_REUSED, ingested_reused[1])
    examples.set_string_custom_property(properties.INPUT_FINGERPRINTS, input_fingerprints)
