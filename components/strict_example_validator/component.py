"""StrictExampleValidator: the stock component with a failing executor."""

from __future__ import annotations

from tfx.components import ExampleValidator
from tfx.dsl.components.base import executor_spec

from components.strict_example_validator import executor


class StrictExampleValidator(ExampleValidator):
    """ExampleValidator whose anomalies stop the pipeline with the anomaly named."""

    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)
