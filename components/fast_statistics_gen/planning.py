"""Which path computes a split's statistics: in memory, streamed, or the stock Beam job.

- ``in_memory``: the whole split decoded into one RecordBatch, when its estimated size
  fits the memory budget (``resources.memory_budget_mb``; transforms/memory_budget.py).
- ``streaming``: RecordBatches of ``READ_BATCH_SIZE`` rows through the same TFDV
  combiners; memory is one batch plus the accumulators, whatever the split's size.
- ``beam``: the stock executor, for a split over the budget when the Beam runner is a
  cluster's (components/scale_out.py), where TFDV's Beam path scales out over workers
  instead of one process.

The in-memory path holds the decoded batches and their merged copy at once, so its peak
is taken as twice the split's decoded size (``scale_out.decoded_bytes``): 16x the input.
"""

from __future__ import annotations

from components import scale_out

IN_MEMORY = "in_memory"
STREAMING = "streaming"
BEAM = "beam"
# Peak in-memory bytes per compressed input byte (2 copies of the decoded split).
IN_MEMORY_BYTES_PER_INPUT_BYTE = 2 * scale_out.DECODED_BYTES_PER_INPUT_BYTE


def in_memory_bytes(input_bytes: int) -> int:
    """Estimated peak memory of the in-memory path for ``input_bytes`` of GZIP TFRecords."""
    return input_bytes * IN_MEMORY_BYTES_PER_INPUT_BYTE


def choose_path(input_bytes: int, budget_bytes: int, on_cluster: bool) -> str:
    """The path of one split of ``input_bytes`` under a memory budget of ``budget_bytes``."""
    if in_memory_bytes(input_bytes) <= budget_bytes:
        return IN_MEMORY
    return BEAM if on_cluster else STREAMING
