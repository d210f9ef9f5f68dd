"""TFDV statistics of a stream of RecordBatches, through TFDV's own combiner generators.

These are the generators TFDV's Beam path runs in its ``CombinePerKey``
(``stats_impl._CombinerStatsGeneratorsCombineFn``) and its in-memory function
``generate_statistics_in_memory`` runs on one batch: ``get_generators(options,
in_memory=True)``, each with ``setup``, ``create_accumulator``, ``add_input`` per batch,
then ``compact`` + ``extract_output`` and the merge of their outputs
(``stats_impl.extract_statistics_output``). Memory is one batch plus the accumulators
(sketches of fixed size), whatever the number of rows.

The one difference from the stock Beam path is TFDV's own, the same as
``generate_statistics_in_memory``'s: top values and unique counts come from TFDV's
sketch generator (Misra-Gries top-k over 1000 buckets, KMV uniques over 16384), which
is exact below those cardinalities, instead of the Beam path's exact counting transform
(``use_sketch_based_topk_uniques`` picks the sketch there too).
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
from tensorflow_data_validation.statistics import stats_impl
from tensorflow_data_validation.statistics.stats_options import StatsOptions
from tensorflow_metadata.proto.v0 import statistics_pb2


def statistics_of_batches(
    batches: Iterable[pa.RecordBatch], options: StatsOptions
) -> tuple[statistics_pb2.DatasetFeatureStatisticsList, int]:
    """TFDV's statistics of all rows of ``batches`` and the number of rows seen.

    ``options`` must not need a Beam-only generator (a label feature's lift stats):
    ``get_generators`` raises for those, as ``generate_statistics_in_memory`` does.
    """
    # stats_impl is TFDV's module for these functions; tfdv's public API exposes only
    # the Beam transform and the one-batch in-memory call, not the per-batch combiners.
    generators = stats_impl.get_generators(options, in_memory=True)
    for generator in generators:
        generator.setup()
    accumulators = [g.create_accumulator() for g in generators]
    rows = 0
    for batch in batches:
        if not batch.num_rows:
            continue
        rows += batch.num_rows
        accumulators = [
            g.add_input(a, batch) for g, a in zip(generators, accumulators, strict=True)
        ]
    return stats_impl.extract_statistics_output(accumulators, generators), rows
