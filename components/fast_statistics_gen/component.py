"""FastStatisticsGen: the stock ``StatisticsGen`` component with faster executor paths."""

from __future__ import annotations

import tensorflow_data_validation as tfdv
from tfx import types
from tfx.components import StatisticsGen
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ExecutionParameter
from tfx.utils import json_utils

from components.fast_statistics_gen import executor


class FastStatisticsGenSpec(standard_component_specs.StatisticsGenSpec):
    """The stock spec plus the memory budget of the in-memory path."""

    PARAMETERS = {
        **standard_component_specs.StatisticsGenSpec.PARAMETERS,
        executor.MEMORY_BUDGET_MB_KEY: ExecutionParameter(type=int, optional=True),
        executor.ACCUMULATOR_CACHE_KEY: ExecutionParameter(type=str, optional=True),
    }


class FastStatisticsGen(StatisticsGen):
    """Same inputs, parameters and output as ``tfx.components.StatisticsGen``, plus
    ``memory_budget_mb``. Splits whose decoded size fits the budget get TFDV's statistics
    in one in-memory pass, larger ones stream through TFDV's combiners in batches; on a
    cluster's Beam runner (and for any option the fast paths do not cover) the stock
    Beam executor runs."""

    SPEC_CLASS = FastStatisticsGenSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        schema: types.BaseChannel | None = None,
        stats_options: tfdv.StatsOptions | None = None,
        exclude_splits: list[str] | None = None,
        memory_budget_mb: int = 0,
        accumulator_cache: str | None = None,
    ):
        """The stock arguments (see ``StatisticsGen``) and ``memory_budget_mb``: the
        budget in MiB, 0 for the machine's default (transforms/memory_budget.py).
        ``accumulator_cache``: a runner-owned directory where each day file's TFDV
        accumulators are kept and reused (``per_file``); None: every file is read."""
        spec = FastStatisticsGenSpec(
            examples=examples,
            schema=schema,
            stats_options_json=stats_options.to_json() if stats_options else None,
            exclude_splits=json_utils.dumps(exclude_splits or []),
            memory_budget_mb=memory_budget_mb,
            accumulator_cache=accumulator_cache,
            statistics=types.Channel(type=standard_artifacts.ExampleStatistics),
        )
        # The stock __init__ builds the stock spec; this is its body with ours.
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
