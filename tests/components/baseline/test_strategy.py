"""PreviousBlessedModelStrategy on a real ML Metadata store (SQLite).

The store holds what a local run records: the Trainer's node context and executions
with OUTPUT events to their Model artifacts, and blessings carrying the Evaluator's
``blessed`` and ``current_model_id`` properties. The strategy must give the latest
blessed model other than the newest finished Trainer execution's output, where the
stock LatestBlessedModelStrategy gives the candidate itself.
"""

from __future__ import annotations

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator import constants
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.types import standard_artifacts

from components.baseline.strategy import PreviousBlessedModelStrategy, candidate_model_ids

PIPELINE, TRAINER = "traffic_testville", "Trainer"
Execution = metadata_store_pb2.Execution


class Store:
    """A fresh SQLite MLMD store and helpers that record Trainer runs and blessings."""

    def __init__(self, path: str) -> None:
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = path
        config.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        )
        self.store = metadata_store.MetadataStore(config)
        self._types = {}
        context_type = self.store.put_context_type(metadata_store_pb2.ContextType(name="node"))
        self.trainer_context = metadata_store_pb2.Context(
            type_id=context_type, name=f"{PIPELINE}.{TRAINER}"
        )
        [self.trainer_context.id] = self.store.put_contexts([self.trainer_context])
        self.execution_type = self.store.put_execution_type(
            metadata_store_pb2.ExecutionType(name="tfx.components.trainer.component.Trainer")
        )
        self.models: list[standard_artifacts.Model] = []
        self.blessings: list[standard_artifacts.ModelBlessing] = []

    def _type_id(self, artifact) -> int:
        name = artifact.type_name
        if name not in self._types:
            self._types[name] = self.store.put_artifact_type(artifact.artifact_type)
        return self._types[name]

    def train(self, state=Execution.COMPLETE, reuse: standard_artifacts.Model | None = None):
        """A Trainer execution in ``state`` outputting a new Model (or ``reuse``, as a
        cached execution does)."""
        model = reuse or standard_artifacts.Model()
        if reuse is None:
            model.uri = f"/models/{len(self.models)}"
            model.mlmd_artifact.type_id = self._type_id(model)
        event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
        event.path.steps.add().key = "model"
        execution = Execution(type_id=self.execution_type, last_known_state=state)
        _, [artifact_id], _ = self.store.put_execution(
            execution, [(model.mlmd_artifact, event)], [self.trainer_context]
        )
        if reuse is None:
            model.id = artifact_id
            self.models.append(model)
        return model

    def bless(self, model: standard_artifacts.Model, blessed: bool = True) -> None:
        """A ModelBlessing of ``model`` with the Evaluator's custom properties."""
        blessing = standard_artifacts.ModelBlessing()
        blessing.uri = f"/blessings/{len(self.blessings)}"
        blessing.mlmd_artifact.type_id = self._type_id(blessing)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
        blessing.set_int_custom_property(
            constants.ARTIFACT_PROPERTY_BLESSED_KEY,
            constants.BLESSED_VALUE if blessed else constants.NOT_BLESSED_VALUE,
        )
        [blessing.id] = self.store.put_artifacts([blessing.mlmd_artifact])
        self.blessings.append(blessing)

    def resolve(self, strategy) -> list[int]:
        """Model ids the strategy resolves from every Model and ModelBlessing stored."""
        input_dict = {
            "model": list(self.models),  # the strategies sort these lists in place
            "model_blessing": list(self.blessings),
        }
        result = strategy.resolve_artifacts(self.store, input_dict)
        return [model.id for model in result["model"]]


@pytest.fixture
def mlmd(tmp_path) -> Store:
    return Store(str(tmp_path / "metadata.sqlite"))


def _ours() -> PreviousBlessedModelStrategy:
    return PreviousBlessedModelStrategy(PIPELINE, TRAINER)


def test_a_rerun_compares_with_the_last_blessed_model_not_with_itself(mlmd):
    first = mlmd.train()
    mlmd.bless(first)
    refused = mlmd.train()
    mlmd.bless(refused, blessed=False)
    candidate = mlmd.train()
    mlmd.bless(candidate)  # blessed by the run before: a re-run reuses it from the cache
    mlmd.train(Execution.CACHED, reuse=candidate)

    assert candidate_model_ids(mlmd.store, PIPELINE, TRAINER) == {candidate.id}
    assert mlmd.resolve(LatestBlessedModelStrategy()) == [candidate.id]
    assert mlmd.resolve(_ours()) == [first.id]


def test_an_unfinished_trainer_execution_is_not_the_candidate(mlmd):
    first = mlmd.train()
    mlmd.bless(first)
    candidate = mlmd.train()
    mlmd.bless(candidate)
    for state in (Execution.FAILED, Execution.RUNNING):
        mlmd.train(state)
    assert candidate_model_ids(mlmd.store, PIPELINE, TRAINER) == {candidate.id}
    assert mlmd.resolve(_ours()) == [first.id]


def test_a_new_model_is_compared_with_the_latest_blessed_one(mlmd):
    older, latest = mlmd.train(), mlmd.train()
    mlmd.bless(older)
    mlmd.bless(latest)
    mlmd.train()  # the candidate, not blessed yet
    assert mlmd.resolve(_ours()) == mlmd.resolve(LatestBlessedModelStrategy()) == [latest.id]


def test_no_baseline_when_only_the_candidate_is_blessed(mlmd):
    candidate = mlmd.train()
    mlmd.bless(candidate)
    assert mlmd.resolve(_ours()) == []
    assert mlmd.resolve(LatestBlessedModelStrategy()) == [candidate.id]


def test_without_a_trainer_context_nothing_is_excluded(mlmd):
    model = mlmd.train()
    mlmd.bless(model)
    other = PreviousBlessedModelStrategy("another_pipeline", TRAINER)
    assert candidate_model_ids(mlmd.store, "another_pipeline", TRAINER) == set()
    assert mlmd.resolve(other) == [model.id]
