"""FastEvaluator: the stock ``Evaluator`` component with an in-memory executor."""

from __future__ import annotations

from tfx.components import Evaluator
from tfx.dsl.components.base import executor_spec

from components.fast_evaluator import executor


class FastEvaluator(Evaluator):
    """Same inputs, parameters and outputs as ``tfx.components.Evaluator``; the metrics
    are computed on whole-column batches instead of TFMA's per-example Beam pipeline,
    and TFMA's own validator and writers produce the evaluation and the blessing."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
