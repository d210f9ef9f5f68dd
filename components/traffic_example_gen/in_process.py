"""The day-cache stages run in this process, without a Beam pipeline (a small night).

A nightly run on a rolling window ingests one day (~35k rows at 1M rows per 28 days);
the Beam pipeline of ``incremental.build_cached_pipeline`` then costs more to build
and start (pipeline construction, the runner API, two dozen bundles: ~2 s of a ~2.5 s
ExampleGen, measured) than its work. When the days to ingest are small enough that
Beam would give them to one worker as one group anyway, and no parallelism is lost
(``fits``), ``run_cached`` calls the same DoFns (``ParseAndStage``,
``LabelFileGroup``, ``LoadTails``, ``ResolveTails``) on the same elements in order,
groups by key where Beam shuffles, and writes the same files: the day entries, the
window's boundary examples (one shard per split), the tail counts, the new days'
counts and rejects, the file errors. Only the order of the blocks in a boundary file
may differ from a Beam run, as it may between two Beam runs (downstream does not
depend on it; see ``transforms.row_order``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import DirectOptions, PipelineOptions

from components import scale_out
from components.traffic_example_gen import accounting
from components.traffic_example_gen.incremental import (
    CachedRun,
    LabelFileGroup,
    LoadTails,
    write_day_counts,
    write_day_rejects,
)
from components.traffic_example_gen.splits import SPLIT_NAMES
from components.traffic_example_gen.stages import (
    BOUNDARY_EXAMPLES_FILE_PREFIX,
    COUNTS_TAG,
    FILE_ERRORS_TAG,
    LAST_VEHICLES_TAG,
    REJECTS_TAG,
    TAILS_TAG,
    ParseAndStage,
    ResolveTails,
    write_json,
)

IN_PROCESS = "in_process"  # the values of properties.INGEST_PATH
BEAM = "beam"
_MAIN = "main"
# The boundary examples' single shard, named as Beam's file sink names shards.
BOUNDARY_SHARD_SUFFIX = "-00000-of-00001.gz"


def fits(
    new_days: int, new_bytes: int, day_group_bytes: int, beam_pipeline_args: list[str]
) -> bool:
    """Whether the ``new_days`` days to ingest (``new_bytes`` of input) run in this
    process: Beam's runner is this machine's, they are at most one day group's bytes
    (what the Beam pipeline gives one worker as one group), and there is one of them or
    one direct worker (so no parallelism is lost)."""
    if new_bytes > day_group_bytes or scale_out.runs_on_a_cluster(beam_pipeline_args):
        return False
    workers = PipelineOptions(beam_pipeline_args).view_as(DirectOptions).direct_num_workers
    return new_days <= 1 or workers == 1


def _apply(dofn: beam.DoFn, elements: Iterable, *side: Any) -> dict[str, list]:
    """The DoFn's outputs over ``elements``, by tag (``_MAIN`` for the main output)."""
    outputs: dict[str, list] = defaultdict(list)
    dofn.setup()
    for element in elements:
        for out in dofn.process(element, *side) or ():
            if isinstance(out, beam.pvalue.TaggedOutput):
                outputs[out.tag].append(out.value)
            else:
                outputs[_MAIN].append(out)
    dofn.teardown()
    return outputs


def _grouped(pairs: Iterable[tuple[Any, Any]]) -> list[tuple[Any, list]]:
    groups: dict[Any, list] = defaultdict(list)
    for key, value in pairs:
        groups[key].append(value)
    return sorted(groups.items(), key=lambda item: item[0])


def _write_blocks(path: str, blocks: list[bytes]) -> None:
    with FileSystems.create(path) as handle:  # .gz: Beam compresses (CompressionTypes.AUTO)
        for block in blocks:
            handle.write(block)


def run_cached(run: CachedRun) -> None:
    """``incremental.build_cached_pipeline``'s work for ``run``, in this process (one
    day shard: see ``fits``)."""
    files, new_days, reused_days = run.files, run.new_days, run.reused_days
    timezone, split_rule, split_uris = run.timezone, run.split_rule, run.split_uris
    read = _apply(
        ParseAndStage(files, timezone, split_rule, run.staging_dir, 1, by_file=True),
        sorted(new_days),
    )
    reused_last = [(i, last) for i, (_, last) in sorted(reused_days.items()) if last is not None]
    last_vehicles = dict(read[LAST_VEHICLES_TAG] + reused_last)
    labeled = _apply(LabelFileGroup(files, run.duplicates, new_days), _grouped(read[_MAIN]))
    reused_tails = _apply(
        LoadTails(files, split_rule), [(i, t) for i, (t, _) in sorted(reused_days.items())]
    )
    resolved = _apply(
        ResolveTails(files, timezone),
        _grouped(labeled[TAILS_TAG] + reused_tails[_MAIN]),
        last_vehicles,
    )
    for split in SPLIT_NAMES:
        _write_blocks(
            FileSystems.join(
                split_uris[split], BOUNDARY_EXAMPLES_FILE_PREFIX + BOUNDARY_SHARD_SUFFIX
            ),
            resolved[split],
        )
    write_json(accounting.merge_counts(resolved[COUNTS_TAG]), run.tail_counts_path)
    for file_index, day_counts in _grouped(read[COUNTS_TAG] + labeled[COUNTS_TAG]):
        write_day_counts((file_index, accounting.merge_counts(day_counts)), new_days)
    for element in _grouped(read[REJECTS_TAG] + labeled[REJECTS_TAG]):
        write_day_rejects(element, new_days)
    write_json(sorted(read[FILE_ERRORS_TAG]), run.file_errors_path)
