"""Which path evaluates the eval split: batches in this process, or TFMA's Beam job.

- ``fast``: the split read and scored in batches of ``SCORE_BATCH_SIZE`` in the
  component's own process (executor.py); memory is one batch, whatever the split's size.
- ``beam``: the stock TFX Evaluator executor (TFMA's ``ExtractEvaluateAndWriteResults``
  Beam pipeline), for a split whose decoded size is over the memory budget when the
  Beam runner is a cluster's (components/scale_out.py): there the evaluation scales
  out over the cluster's workers instead of one process.

Both paths take the same EvalConfig and write the same metrics, validation and blessing
(tests/components/fast_evaluator).
"""

from __future__ import annotations

from components import scale_out

FAST = "fast"
BEAM = "beam"


def choose_path(input_bytes: int, budget_bytes: int, on_cluster: bool) -> str:
    """The path for eval splits of ``input_bytes`` (GZIP) under ``budget_bytes``."""
    if on_cluster and scale_out.decoded_bytes(input_bytes) > budget_bytes:
        return BEAM
    return FAST
