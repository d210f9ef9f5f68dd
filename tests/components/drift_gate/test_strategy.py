"""PreviousDataBlessingStrategy on a real ML Metadata store (SQLite).

The store holds what local runs record: ExampleGen executions outputting Examples (in
the ExampleGen node context), and Evaluator executions reading Examples and a Model and
outputting a ModelBlessing with the Evaluator's properties and ``city``. The drift
gate's baseline must be the latest blessed run of the city on other Examples than the
newest ExampleGen execution's.
"""

from __future__ import annotations

import pytest
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2
from tfx.components.evaluator import constants
from tfx.types import standard_artifacts

from components.baseline.scope import CITY_PROPERTY
from components.drift_gate.strategy import PreviousDataBlessingStrategy

PIPELINE, EXAMPLE_GEN = "traffic-embeddings-testville", "TrafficExampleGen"
Execution, Event = metadata_store_pb2.Execution, metadata_store_pb2.Event


class Store:
    def __init__(self, path: str) -> None:
        config = metadata_store_pb2.ConnectionConfig()
        config.sqlite.filename_uri = path
        config.sqlite.connection_mode = (
            metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
        )
        self.store = metadata_store.MetadataStore(config)
        node = self.store.put_context_type(metadata_store_pb2.ContextType(name="node"))
        self.context = metadata_store_pb2.Context(type_id=node, name=f"{PIPELINE}.{EXAMPLE_GEN}")
        [self.context.id] = self.store.put_contexts([self.context])
        self.exec_type = self.store.put_execution_type(metadata_store_pb2.ExecutionType(name="x"))
        self.types: dict[str, int] = {}
        self.models: list = []
        self.blessings: list = []
        self.examples = 0

    def _new(self, artifact, uri: str):
        if artifact.type_name not in self.types:
            self.types[artifact.type_name] = self.store.put_artifact_type(artifact.artifact_type)
        artifact.mlmd_artifact.type_id = self.types[artifact.type_name]
        artifact.uri = uri
        return artifact

    def example_gen(self, reuse=None):
        """An ExampleGen execution outputting new Examples (or ``reuse``: cached)."""
        if reuse is None:
            self.examples += 1
        examples = reuse or self._new(standard_artifacts.Examples(), f"/ex/{self.examples}")
        event = Event(type=Event.OUTPUT)
        event.path.steps.add().key = "examples"
        state = Execution.CACHED if reuse else Execution.COMPLETE
        _, [examples.id], _ = self.store.put_execution(
            Execution(type_id=self.exec_type, last_known_state=state),
            [(examples.mlmd_artifact, event)],
            [self.context],
        )
        return examples

    def evaluate(self, examples, blessed: bool = True, city: str = "testville"):
        """A model evaluated on ``examples``, and its blessing."""
        model = self._new(standard_artifacts.Model(), f"/models/{len(self.models)}")
        [model.id] = self.store.put_artifacts([model.mlmd_artifact])
        blessing = self._new(standard_artifacts.ModelBlessing(), f"/b/{len(self.blessings)}")
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_CURRENT_MODEL_ID_KEY, model.id)
        blessing.set_int_custom_property(constants.ARTIFACT_PROPERTY_BLESSED_KEY, int(blessed))
        blessing.set_string_custom_property(CITY_PROPERTY, city)
        events = [(examples.mlmd_artifact, Event(type=Event.INPUT))]
        events += [(model.mlmd_artifact, Event(type=Event.INPUT))]
        events += [(blessing.mlmd_artifact, Event(type=Event.OUTPUT))]
        _, ids, _ = self.store.put_execution(
            Execution(type_id=self.exec_type, last_known_state=Execution.COMPLETE), events, []
        )
        blessing.id = ids[2]
        self.models.append(model)
        self.blessings.append(blessing)
        return blessing

    def resolve(self, city: str = "testville") -> list[int]:
        """The blessing ids the strategy resolves from every Model and ModelBlessing."""
        strategy = PreviousDataBlessingStrategy(PIPELINE, EXAMPLE_GEN, city)
        result = strategy.resolve_artifacts(
            self.store, {"model": list(self.models), "model_blessing": list(self.blessings)}
        )
        return [b.id for b in result["model_blessing"]]


@pytest.fixture
def mlmd(tmp_path) -> Store:
    return Store(str(tmp_path / "metadata.sqlite"))


def test_a_rerun_on_the_same_examples_keeps_its_earlier_baseline(mlmd):
    first = mlmd.evaluate(mlmd.example_gen())
    examples = mlmd.example_gen()
    mlmd.evaluate(examples)  # this window's run, blessed
    mlmd.example_gen(reuse=examples)  # the re-run: ExampleGen cached
    assert mlmd.resolve() == [first.id]


def test_new_examples_compare_with_the_latest_blessed_run(mlmd):
    mlmd.evaluate(mlmd.example_gen())
    latest = mlmd.evaluate(mlmd.example_gen())
    mlmd.evaluate(mlmd.example_gen(), blessed=False)  # a blocked (unblessed) run
    mlmd.example_gen()
    assert mlmd.resolve() == [latest.id]


def test_another_citys_blessing_is_never_the_baseline(mlmd):
    own = mlmd.evaluate(mlmd.example_gen())
    mlmd.evaluate(mlmd.example_gen(), city="elsewhere")
    mlmd.example_gen()
    assert mlmd.resolve() == [own.id]
    assert mlmd.resolve(city="nowhere") == []
