"""When a split's work leaves this machine: the Beam runner and the split's size.

A fast path of this project runs in the component's own process. Over the memory budget
(``resources.memory_budget_mb``; transforms/memory_budget.py) on a cluster's Beam runner
(``dataflow``, ``flink``, ``spark`` or ``portable`` profile), a component hands the
split to its stock Beam executor instead, which scales out over the cluster's workers:
TFDV for StatisticsGen (components/fast_statistics_gen/planning.py), TFMA for the
Evaluator (components/fast_evaluator/planning.py). The Trainer has the Beam job read and
transform its train split instead (transforms/beam_rows.py).

A split's size in memory is estimated from its compressed input: the decoded Arrow
batch is 5-8x the GZIP TFRecord bytes of this project's examples (measured 8.1x on
ExampleGen's events of a generated London run, 6.7x on hourly counts and 5.2x on the
tests' random events).
"""

from __future__ import annotations

import tensorflow as tf
from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

# Decoded (Arrow) bytes of a split per byte of its GZIP TFRecord files.
DECODED_BYTES_PER_INPUT_BYTE = 8
# Runners that execute in this one machine's processes (Beam's default is DirectRunner).
LOCAL_RUNNERS = ("DirectRunner", "BundleBasedDirectRunner", "SwitchingDirectRunner")


def runs_on_a_cluster(beam_pipeline_args: list[str]) -> bool:
    """Whether the Beam runner of these arguments is a cluster's, not this machine's."""
    runner = PipelineOptions(beam_pipeline_args).view_as(StandardOptions).runner
    name = (runner or "DirectRunner").rsplit(".", 1)[-1]
    return name not in LOCAL_RUNNERS


def trainer_config(beam_pipeline_args: list[str]) -> dict[str, list[str]]:
    """What the Trainer's ``custom_config`` adds for its Beam reader
    (transforms/beam_rows.py): the runner's arguments (its ``beam_pipeline_args``
    hyperparameter) on a cluster's runner; nothing on this machine's."""
    if not runs_on_a_cluster(beam_pipeline_args):
        return {}
    return {"beam_pipeline_args": list(beam_pipeline_args)}


def input_bytes(files: list[str]) -> int:
    """Compressed size of ``files`` on their filesystem."""
    return sum(tf.io.gfile.stat(f).length for f in files)


def decoded_bytes(input_bytes: int) -> int:
    """Estimated size in memory of a split of ``input_bytes`` of GZIP TFRecords, decoded."""
    return input_bytes * DECODED_BYTES_PER_INPUT_BYTE
