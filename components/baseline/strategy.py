"""PreviousBlessedModelStrategy: LatestBlessedModelStrategy minus the candidate model.

With the stock strategy, re-running an unchanged pipeline makes the cached Trainer's
model its own baseline: the Evaluator's inputs change (a baseline appears), so the
Evaluator and Pusher re-execute and the same model is published again. Excluding the
model the Trainer just produced (or reused from cache) keeps an unchanged re-run fully
cached, and a real new model is still compared with the last blessed one.

It also keeps only blessings of its ``city`` (``scope``): the pipeline context already
scopes the channels to the city's pipeline, and the property makes the rule explicit.

The Resolver must run after the Trainer (``create_pipeline`` adds that dependency).
Kubeflow V2 / Vertex only compile the stock strategies, so compiled pipelines use
LatestBlessedModelStrategy.
"""

from __future__ import annotations

from ml_metadata.proto import metadata_store_pb2
from tfx import types
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts

from components.baseline import scope

_DONE = (metadata_store_pb2.Execution.COMPLETE, metadata_store_pb2.Execution.CACHED)
_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)


def candidate_model_ids(store, pipeline_name: str, trainer_node_id: str) -> set[int]:
    """Model artifact ids output by the Trainer's newest finished execution."""
    ctx = store.get_context_by_type_and_name("node", f"{pipeline_name}.{trainer_node_id}")
    if ctx is None:
        return set()
    done = [e for e in store.get_executions_by_context(ctx.id) if e.last_known_state in _DONE]
    if not done:
        return set()
    latest = max(done, key=lambda e: e.id)
    return {
        event.artifact_id
        for event in store.get_events_by_execution_ids([latest.id])
        if event.type in _OUTPUT_EVENTS
    }


class PreviousBlessedModelStrategy(LatestBlessedModelStrategy):
    """The latest blessed Model of ``city`` that is not the current candidate."""

    def __init__(self, pipeline_name: str, trainer_node_id: str, city: str = ""):
        self._pipeline_name = pipeline_name
        self._trainer_node_id = trainer_node_id
        self._city = city

    def resolve_artifacts(
        self, store, input_dict: dict[str, list[types.Artifact]]
    ) -> dict[str, list[types.Artifact]] | None:
        exclude = candidate_model_ids(store, self._pipeline_name, self._trainer_node_id)
        filtered = {
            key: [
                a
                for a in artifacts
                if not (isinstance(a, standard_artifacts.Model) and a.id in exclude)
                and not (
                    self._city
                    and isinstance(a, standard_artifacts.ModelBlessing)
                    and not scope.same_city(_string_property(a, scope.CITY_PROPERTY), self._city)
                )
            ]
            for key, artifacts in input_dict.items()
        }
        return super().resolve_artifacts(store, filtered)


def _string_property(artifact: types.Artifact, name: str) -> str | None:
    """A string custom property, None when the artifact has none of that name."""
    if not artifact.has_custom_property(name):
        return None
    return artifact.get_string_custom_property(name)
