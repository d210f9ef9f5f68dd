"""FastStatisticsGen executor: TFDV statistics of whole splits computed in memory.

The stock executor streams every record through a Beam pipeline; on one machine most of
its time goes to per-record reading and decoding in Beam, not to TFDV's statistics. Here
each split is read with ``tf.data`` in large batches, decoded by the same tfx_bsl
decoder TFXIO uses (``ExamplesToRecordBatchDecoder``, so the Arrow types are the stock
ones), and handed whole to TFDV's own ``generate_statistics_in_memory`` with the same
``StatsOptions``. The output is the stock artifact: ``Split-<name>/FeatureStats.pb`` and
the same custom properties.

The fast path covers the stock defaults (optionally with a schema input). Anything else
(sampling, sharded output, custom split patterns, ``stats_options_json``, non-tf.Example
payloads) and any split over ``IN_MEMORY_MAX_BYTES`` of input run the stock executor, so
memory stays bounded whatever the input size.
"""

from __future__ import annotations

import os
from typing import Any

import pyarrow as pa
import tensorflow as tf
import tensorflow_data_validation as tfdv
from absl import logging
from tensorflow_data_validation.statistics import stats_impl
from tfx import types
from tfx.components.statistics_gen import executor as stock
from tfx.components.util import examples_utils
from tfx.proto import example_gen_pb2
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils, json_utils
from tfx_bsl.coders import example_coder

# Compressed input bytes of one split above which the stock Beam path is used
# (about 3.5M rows of this project's examples, a few hundred MB decoded).
IN_MEMORY_MAX_BYTES = 64 << 20
READ_BATCH_SIZE = 65_536
FAST_PATH_PROPERTY = "in_memory_statistics"  # 1 when this executor's fast path ran


def _split_files(examples: types.Artifact, split: str) -> list[str]:
    uri = artifact_utils.get_split_uri([examples], split)
    return sorted(tf.io.gfile.glob(io_utils.all_files_pattern(uri)))


def _fast_path_applies(
    examples: types.Artifact, exec_properties: dict[str, Any], splits: list[str]
) -> bool:
    options = (
        standard_component_specs.STATS_OPTIONS_JSON_KEY,
        standard_component_specs.SAMPLE_RATE_BY_SPLIT_KEY,
        standard_component_specs.SHARDED_STATS_OUTPUT_KEY,
    )
    if any(exec_properties.get(key) not in (None, "", "null", "{}", False) for key in options):
        return False
    if examples.has_custom_property(examples_utils.CUSTOM_SPLIT_PATTERN_PROPERTY_NAME):
        return False
    if examples_utils.get_payload_format(examples) != example_gen_pb2.FORMAT_TF_EXAMPLE:
        return False
    for split in splits:
        files = _split_files(examples, split)
        if not files or sum(tf.io.gfile.stat(f).length for f in files) > IN_MEMORY_MAX_BYTES:
            return False
    return True


def read_record_batch(files: list[str]) -> pa.RecordBatch:
    """All tf.Examples of ``files`` (GZIP TFRecords) as one Arrow RecordBatch."""
    decoder = example_coder.ExamplesToRecordBatchDecoder()
    dataset = tf.data.TFRecordDataset(files, compression_type="GZIP").batch(READ_BATCH_SIZE)
    batches = [decoder.DecodeBatch(batch.numpy().tolist()) for batch in dataset.prefetch(1)]
    table = pa.Table.from_batches(batches).combine_chunks()
    return table.to_batches()[0] if table.num_rows else batches[0]


class Executor(stock.Executor):
    """In-memory statistics when the fast path applies, the stock executor otherwise."""

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
        if not splits or not _fast_path_applies(examples, exec_properties, splits):
            statistics.set_int_custom_property(FAST_PATH_PROPERTY, 0)
            super().Do(input_dict, output_dict, exec_properties)
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
        for split in splits:
            record_batch = read_record_batch(_split_files(examples, split))
            stats = stats_impl.generate_statistics_in_memory(record_batch, options)
            out_dir = artifact_utils.get_split_uri([statistics], split)
            tf.io.gfile.makedirs(out_dir)
            path = os.path.join(out_dir, stock.DEFAULT_FILE_NAME)
            with tf.io.gfile.GFile(path, "wb") as f:
                f.write(stats.SerializeToString())
            logging.info(
                "statistics of %d %s rows written to %s", record_batch.num_rows, split, path
            )
