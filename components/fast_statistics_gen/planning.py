"""Which path computes a split's statistics: in memory, streamed, or the stock Beam job.

- ``in_memory``: the whole split decoded into one RecordBatch, when its estimated size
  fits the memory budget (``resources.memory_budget_mb``; transforms/memory_budget.py).
- ``streaming``: RecordBatches of ``READ_BATCH_SIZE`` rows through the same TFDV
  combiners; memory is one batch plus the accumulators, whatever the split's size.
- ``beam``: the stock executor, for a split over the budget when the Beam runner is a
  cluster's (``dataflow``, ``flink``, ``spark`` or ``portable`` profile), where TFDV's
  Beam path scales out over workers instead of one process.

The in-memory size is estimated from the split's compressed input: the decoded Arrow
batch is 5-8x the GZIP TFRecord bytes of this project's examples (measured 8.1x on
ExampleGen's events of a generated London run, 6.7x on hourly counts and 5.2x on the
tests' random events), and the in-memory path holds the decoded batches and their
merged copy at once, so its peak is taken as twice the largest: 16x the input bytes.
"""

from __future__ import annotations

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

IN_MEMORY = "in_memory"
STREAMING = "streaming"
BEAM = "beam"
# Peak in-memory bytes per compressed input byte (2 copies of the decoded split).
IN_MEMORY_BYTES_PER_INPUT_BYTE = 16
# Runners that execute in this one machine's processes (Beam's default is DirectRunner).
LOCAL_RUNNERS = ("DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")


def in_memory_bytes(input_bytes: int) -> int:
    """Estimated peak memory of the in-memory path for ``input_bytes`` of GZIP TFRecords."""
    return input_bytes * IN_MEMORY_BYTES_PER_INPUT_BYTE


def runs_on_a_cluster(beam_pipeline_args: list[str]) -> bool:
    """Whether the Beam runner of these arguments is a cluster's, not this machine's."""
    runner = PipelineOptions(beam_pipeline_args).view_as(StandardOptions).runner
    name = (runner or "DirectRunner").rsplit(".", 1)[-1]
    return name not in LOCAL_RUNNERS


def choose_path(input_bytes: int, budget_bytes: int, on_cluster: bool) -> str:
    """The path of one split of ``input_bytes`` under a memory budget of ``budget_bytes``."""
    if in_memory_bytes(input_bytes) <= budget_bytes:
        return IN_MEMORY
    return BEAM if on_cluster else STREAMING
