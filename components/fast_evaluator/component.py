"""FastEvaluator: the stock ``Evaluator`` component with an in-memory executor."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components import Evaluator
from tfx.dsl.components.base import base_beam_component, executor_spec
from tfx.types import standard_artifacts, standard_component_specs
from tfx.types.component_spec import ChannelParameter, ExecutionParameter
from tfx.utils import json_utils

from components.baseline.scope import CITY_PROPERTY
from components.drift_gate.executor import DRIFT_STATISTICS_KEY
from components.fast_evaluator import executor


class FastEvaluatorSpec(standard_component_specs.EvaluatorSpec):
    """The stock Evaluator's spec plus ``city``, written on the blessing (``scope``), the
    memory budget over which a cluster's Beam runner evaluates, and the DriftGate's
    ``drift_statistics`` (optional): recorded on the blessing, and a ``block`` with drift
    withholds the blessing (``components/drift_gate``)."""

    PARAMETERS = {
        **standard_component_specs.EvaluatorSpec.PARAMETERS,
        CITY_PROPERTY: ExecutionParameter(type=str, optional=True),
        executor.MEMORY_BUDGET_MB_KEY: ExecutionParameter(type=float, optional=True),
    }
    INPUTS = {
        **standard_component_specs.EvaluatorSpec.INPUTS,
        DRIFT_STATISTICS_KEY: ChannelParameter(
            type=standard_artifacts.ExampleStatistics, optional=True
        ),
    }


class FastEvaluator(Evaluator):
    """Same inputs and outputs as ``tfx.components.Evaluator``, and its parameters plus
    ``city``; the metrics are computed on whole-column batches instead of TFMA's
    per-example Beam pipeline, and TFMA's own validator and writers produce the
    evaluation and the blessing. The blessing also records ``city``, so that baseline
    resolvers can be restricted to the city on every runner
    (``components/baseline/scope.py``). On a cluster's Beam runner, an eval split over
    ``memory_budget_mb`` (MiB, 0: the machine's default) is evaluated by the stock
    executor's TFMA Beam pipeline instead (``components/fast_evaluator/planning.py``)."""

    SPEC_CLASS = FastEvaluatorSpec
    EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

    def __init__(
        self,
        examples: types.BaseChannel,
        model: types.BaseChannel,
        baseline_model: types.BaseChannel | None = None,
        example_splits: list[str] | None = None,
        eval_config: Any = None,
        schema: types.BaseChannel | None = None,
        city: str = "",
        drift_statistics: types.BaseChannel | None = None,
        memory_budget_mb: float = 0,
    ):
        # The stock __init__ builds a stock EvaluatorSpec; this builds ours with the same
        # values (as the stock one does for the arguments used here) plus the city.
        spec = FastEvaluatorSpec(
            examples=examples,
            model=model,
            baseline_model=baseline_model,
            fairness_indicator_thresholds=json_utils.dumps(None),
            example_splits=json_utils.dumps(example_splits),
            evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
            eval_config=eval_config,
            blessing=types.Channel(type=standard_artifacts.ModelBlessing),
            schema=schema,
            city=city,
            drift_statistics=drift_statistics,
            memory_budget_mb=float(memory_budget_mb),
        )
        base_beam_component.BaseBeamComponent.__init__(self, spec=spec)
