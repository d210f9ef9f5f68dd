"""FastStatisticsGen executor: TFDV statistics of each split without a Beam job.

The stock executor streams every record through a Beam pipeline; on one machine most of
its time goes to per-record reading and decoding in Beam, not to TFDV's statistics. Here
each split is read with ``tf.data`` in large batches and decoded by the tfx_bsl decoder
TFXIO uses (reading.py), and TFDV's own combiner generators compute the statistics with
the same ``StatsOptions`` (combiners.py). planning.py picks, per split, whether the
whole split is decoded at once (in memory, under the memory budget) or streamed in
batches (memory bounded by a batch); over the budget on a cluster's Beam runner, the
stock executor runs instead. The output is the stock artifact: ``Split-<name>/
FeatureStats.pb`` and the same custom properties, plus which path ran.

The fast paths cover the stock defaults (optionally with a schema input). Anything else
(sampling, sharded output, custom split patterns, ``stats_options_json``, non-tf.Example
payloads) runs the stock executor.
"""

from __future__ import annotations

import os
from typing import Any

import tensorflow as tf
import tensorflow_data_validation as tfdv
from absl import logging
from tfx import types
from tfx.components.statistics_gen import executor as stock
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils

from components import scale_out
from components.fast_statistics_gen import combiners, per_file, planning, reading
from transforms import memory_budget

MEMORY_BUDGET_MB_KEY = "memory_budget_mb"  # exec property; 0: the machine's default
# Exec property: where per-file accumulators are kept between runs (``per_file``); ''
# or unset: none. Set by the pipeline next to ExampleGen's day cache.
ACCUMULATOR_CACHE_KEY = "accumulator_cache"
FAST_PATH_PROPERTY = "in_memory_statistics"  # 1 when no Beam job ran (in memory or streamed)
STATISTICS_PATH_PROPERTY = "statistics_path"  # per split: {"train": "streaming", ...}
PER_FILE = "per_file"  # the statistics path with an accumulator cache
FILES_REUSED_PROPERTY = "statistics_files_reused"  # with a cache: day files taken back
FILES_COMPUTED_PROPERTY = "statistics_files_computed"  # ... and files read this run
# The custom properties this executor adds to the stock ones.
OWN_PROPERTIES = (
    FAST_PATH_PROPERTY,
    STATISTICS_PATH_PROPERTY,
    FILES_REUSED_PROPERTY,
    FILES_COMPUTED_PROPERTY,
)


def _options_are_stock_defaults(examples: types.Artifact, exec_properties: dict[str, Any]) -> bool:
    options = (
        standard_component_specs.STATS_OPTIONS_JSON_KEY,
        standard_component_specs.SAMPLE_RATE_BY_SPLIT_KEY,
        standard_component_specs.SHARDED_STATS_OUTPUT_KEY,
    )
    if any(exec_properties.get(key) not in (None, "", "null", "{}", False) for key in options):
        return False
    if examples.has_custom_property(examples_utils.CUSTOM_SPLIT_PATTERN_PROPERTY_NAME):
        return False
    return examples_utils.get_payload_format(examples) == example_gen_pb2.FORMAT_TF_EXAMPLE


def _plan(
    examples: types.Artifact, splits: list[str], budget_bytes: int, on_cluster: bool
) -> dict[str, str] | None:
    """Each split's path, or None when any split has no files or needs the Beam job."""
    paths = {}
    for split in splits:
        files = reading.split_files(examples, split)
        if not files:
            return None
        paths[split] = planning.choose_path(scale_out.input_bytes(files), budget_bytes, on_cluster)
    return None if planning.BEAM in paths.values() else paths


def _write_statistics(statistics: types.Artifact, split: str, stats) -> str:
    out_dir = artifact_utils.get_split_uri([statistics], split)
    tf.io.gfile.makedirs(out_dir)
    path = os.path.join(out_dir, stock.DEFAULT_FILE_NAME)
    with tf.io.gfile.GFile(path, "wb") as f:
        f.write(stats.SerializeToString())
    return path


class Executor(stock.Executor):
    """In-memory or streamed statistics when they apply, the stock executor otherwise."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        examples = artifact_utils.get_single_instance(
            input_dict[standard_component_specs.EXAMPLES_KEY]
        )
        exclude = json_utils.loads(
            exec_properties.get(standard_component_specs.EXCLUDE_SPLITS_KEY) or "null"
        )
        splits = [
            s
            for s in artifact_utils.decode_split_names(examples.split_names)
            if s not in (exclude or [])
        ]
        statistics = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.STATISTICS_KEY]
        )
        budget = memory_budget.memory_budget_bytes(
            int(exec_properties.get(MEMORY_BUDGET_MB_KEY) or 0)
        )
        plan = None
        if splits and _options_are_stock_defaults(examples, exec_properties):
            on_cluster = scale_out.runs_on_a_cluster(self._beam_pipeline_args)
            plan = _plan(examples, splits, budget, on_cluster)
        if plan is None:
            statistics.set_int_custom_property(FAST_PATH_PROPERTY, 0)
            statistics.set_json_value_custom_property(
                STATISTICS_PATH_PROPERTY, {s: planning.BEAM for s in splits}
            )
            # The stock executor reads only stock exec properties.
            stock_properties = dict(exec_properties)
            stock_properties.pop(MEMORY_BUDGET_MB_KEY, None)
            stock_properties.pop(ACCUMULATOR_CACHE_KEY, None)
            super().Do(input_dict, output_dict, stock_properties)
            return
        self._log_startup(input_dict, output_dict, exec_properties)
        options = tfdv.StatsOptions()
        if input_dict.get(standard_component_specs.SCHEMA_KEY):
            options.schema = io_utils.SchemaReader().read(
                io_utils.get_only_uri_in_dir(
                    artifact_utils.get_single_uri(input_dict[standard_component_specs.SCHEMA_KEY])
                )
            )
        # The stock executor's artifact properties, so readers cannot tell the paths apart.
        statistics.split_names = artifact_utils.encode_split_names(splits)
        statistics.span = examples.span
        statistics.set_string_custom_property(stock.STATS_DASHBOARD_LINK, "")
        statistics.set_json_value_custom_property(
            stock.SAMPLE_RATE_BY_SPLIT_PROPERTY_NAME, json_utils.dumps({s: 1.0 for s in splits})
        )
        statistics.set_int_custom_property(FAST_PATH_PROPERTY, 1)
        cache_dir = exec_properties.get(ACCUMULATOR_CACHE_KEY) or ""
        if cache_dir:
            plan = {split: PER_FILE for split in plan}
        statistics.set_json_value_custom_property(STATISTICS_PATH_PROPERTY, plan)
        reused = computed = 0
        for split, path in plan.items():
            files = reading.split_files(examples, split)
            if path == PER_FILE:
                stats, rows, split_reused, split_computed = per_file.statistics_of_files(
                    files, options, cache_dir
                )
                reused, computed = reused + split_reused, computed + split_computed
                written = _write_statistics(statistics, split, stats)
                logging.info(
                    "statistics of %d %s rows (%d day files reused, %d read) written to %s",
                    rows,
                    split,
                    split_reused,
                    split_computed,
                    written,
                )
                continue
            if path == planning.IN_MEMORY:
                batches = [reading.read_record_batch(files)]
            else:
                batches = reading.read_batches(files, reading.READ_BATCH_SIZE)
            stats, rows = combiners.statistics_of_batches(batches, options)
            written = _write_statistics(statistics, split, stats)
            logging.info("statistics of %d %s rows (%s) written to %s", rows, split, path, written)
        if cache_dir:
            statistics.set_int_custom_property(FILES_REUSED_PROPERTY, reused)
            statistics.set_int_custom_property(FILES_COMPUTED_PROPERTY, computed)
