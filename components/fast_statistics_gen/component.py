"""FastStatisticsGen: the stock ``StatisticsGen`` component with an in-memory fast path."""

from __future__ import annotations

from tfx.components import StatisticsGen
from tfx.dsl.components.base import executor_spec

from components.fast_statistics_gen import executor


class FastStatisticsGen(StatisticsGen):
    """Same inputs, parameters and output as ``tfx.components.StatisticsGen``. Splits
    small enough to hold in memory get TFDV's statistics from one in-memory pass; the
    rest (and any option the fast path does not cover) run the stock Beam executor."""

    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)
