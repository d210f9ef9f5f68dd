"""Runs the stock ExampleValidator, then fails if any split has anomalies."""

from __future__ import annotations

from typing import Any

from tfx import types
from tfx.components.example_validator import executor as stock_executor
from tfx.types import artifact_utils

from components.strict_example_validator.anomalies import (
    DataAnomalyError,
    describe_anomalies,
    load_anomalies,
)


class Executor(stock_executor.Executor):
    """Stock validation plus a hard stop: anomalies are raised, not just recorded."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ):
        result = super().Do(input_dict, output_dict, exec_properties)
        anomalies_artifact = artifact_utils.get_single_instance(output_dict["anomalies"])
        problems = []
        for split in artifact_utils.decode_split_names(anomalies_artifact.split_names):
            split_dir = artifact_utils.get_split_uri([anomalies_artifact], split)
            problems += describe_anomalies(split, load_anomalies(split_dir))
        if problems:
            raise DataAnomalyError(
                "data anomalies against the schema (fix the data or the curated schema):\n  "
                + "\n  ".join(problems)
            )
        return result
