"""DriftGate: TFX component spec (see ``executor.py`` for what it computes)."""

from __future__ import annotations

import json

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.drift_gate import executor


class DriftGateSpec(types.ComponentSpec):
    """Inputs: the window's statistics and examples, the baseline blessing (optional)."""

    PARAMETERS = {
        executor.MODE_KEY: ExecutionParameter(type=str),
        executor.THRESHOLDS_KEY: ExecutionParameter(type=str),
        executor.DATA_KIND_KEY: ExecutionParameter(type=str),
        executor.TIMEZONE_KEY: ExecutionParameter(type=str),
        executor.RECENT_DAYS_KEY: ExecutionParameter(type=int),
    }
    INPUTS = {
        executor.STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
        executor.EXAMPLES_KEY: ChannelParameter(type=standard_artifacts.Examples),
        executor.BASELINE_KEY: ChannelParameter(
            type=standard_artifacts.ModelBlessing, optional=True
        ),
    }
    OUTPUTS = {
        executor.DRIFT_STATISTICS_KEY: ChannelParameter(type=standard_artifacts.ExampleStatistics),
        executor.ANOMALIES_KEY: ChannelParameter(type=standard_artifacts.ExampleAnomalies),
    }


class DriftGate(base_component.BaseComponent):
    """Compares the window's statistics with the last blessed run's, with TFDV's drift
    comparators (as TFX's DistributionValidator, which ``tfx.v1`` does not export and
    which takes baseline statistics, not a blessing, so it cannot be resolved
    city-scoped on Kubeflow V2), and the window's newest ``recent_days`` days with the
    baseline's days before them (``recent.py``). ``mode`` warn records the result; block
    also makes the Evaluator withhold its blessing (``components/fast_evaluator``)."""

    SPEC_CLASS = DriftGateSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self,
        statistics: types.BaseChannel,
        examples: types.BaseChannel,
        mode: str,
        thresholds: dict[str, float],
        data_kind: str,
        timezone: str,
        recent_days: int,
        baseline: types.BaseChannel | None = None,
    ):
        super().__init__(
            spec=DriftGateSpec(
                statistics=statistics,
                examples=examples,
                baseline=baseline,
                mode=mode,
                thresholds=json.dumps(thresholds, sort_keys=True),
                data_kind=data_kind,
                timezone=timezone,
                recent_days=recent_days,
                drift_statistics=types.Channel(type=standard_artifacts.ExampleStatistics),
                anomalies=types.Channel(type=standard_artifacts.ExampleAnomalies),
            )
        )
