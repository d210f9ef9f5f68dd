"""PreviousDataBlessingStrategy: the drift gate's baseline, the last blessed run of the
city on other data than this run's.

LatestBlessedModelStrategy, restricted to the city (``components/baseline/scope.py``)
and minus the blessings of evaluations on the Examples this run's ExampleGen just
produced (or reused from cache). Without that rule, an unchanged re-run would find its
own earlier blessing, see a new baseline and re-run the DriftGate, the Evaluator and
the Pusher instead of staying cached. The Resolver must run after ExampleGen
(``create_pipeline`` adds that dependency). Kubeflow V2 / Vertex only compile the stock
strategies: there the compiled LatestBlessedModelStrategy query gets the city clause,
as the Evaluator's baseline does (``deploy/runners/kubeflow/runner.py``).
"""

from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts

from components.baseline import scope
from components.baseline.strategy import candidate_model_ids

_OUTPUTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)
_INPUTS = (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT)


def evaluated_on(store, blessing_ids: list[int]) -> dict[int, set[int]]:
    """{blessing id: ids of the input artifacts of the execution that produced it}."""
    producer = {
        e.artifact_id: e.execution_id
        for e in store.get_events_by_artifact_ids(blessing_ids)
        if e.type in _OUTPUTS
    }
    inputs: dict[int, set[int]] = {}
    for event in store.get_events_by_execution_ids(sorted(set(producer.values()))):
        if event.type in _INPUTS:
            inputs.setdefault(event.execution_id, set()).add(event.artifact_id)
    return {b: inputs.get(execution, set()) for b, execution in producer.items()}


class PreviousDataBlessingStrategy(LatestBlessedModelStrategy):
    """The latest blessed Model of ``city`` (and its blessing) evaluated on other data."""

    def __init__(self, pipeline_name: str, example_gen_node_id: str, city: str = ""):
        self._pipeline_name = pipeline_name
        self._example_gen_node_id = example_gen_node_id
        self._city = city

    def resolve_artifacts(
        self, store, input_dict: dict[str, list[types.Artifact]]
    ) -> dict[str, list[types.Artifact]] | None:
        # (the output ids of a node's newest finished execution: here, this run's Examples)
        current = candidate_model_ids(store, self._pipeline_name, self._example_gen_node_id)
        blessings = [
            a
            for artifacts in input_dict.values()
            for a in artifacts
            if isinstance(a, standard_artifacts.ModelBlessing)
        ]
        used = evaluated_on(store, [a.id for a in blessings])
        same_data = {blessing for blessing, inputs in used.items() if inputs & current}
        filtered = {
            key: [
                a
                for a in artifacts
                if not (
                    isinstance(a, standard_artifacts.ModelBlessing)
                    and (
                        a.id in same_data
                        or (self._city and not scope.same_city(_city_of(a), self._city))
                    )
                )
            ]
            for key, artifacts in input_dict.items()
        }
        return super().resolve_artifacts(store, filtered)


def _city_of(artifact: types.Artifact) -> str | None:
    if not artifact.has_custom_property(scope.CITY_PROPERTY):
        return None
    return artifact.get_string_custom_property(scope.CITY_PROPERTY)
