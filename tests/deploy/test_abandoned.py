"""Run lock and abandoned executions, on a real SQLite ML Metadata store."""

from __future__ import annotations

import os

import pytest
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from deploy.mlmd import metadata
from deploy.runners.local import abandoned

PIPELINE = "traffic-embeddings-london"


def test_a_second_owner_is_refused_while_the_first_holds_the_lock(tmp_path):
    with abandoned.run_lock(tmp_path, PIPELINE) as previous:
        assert previous == {}
        with (
            pytest.raises(abandoned.AlreadyRunningError, match=f"pid {os.getpid()}"),
            abandoned.run_lock(tmp_path, PIPELINE),
        ):
            pass
    with abandoned.run_lock(tmp_path, PIPELINE) as previous:  # released on exit
        assert previous == {}


def _store(tmp_path) -> metadata_store.MetadataStore:
    return metadata_store.MetadataStore(metadata.sqlite_config(tmp_path / "metadata.sqlite"))


def _execution(store, node: str, state) -> int:
    node_type = store.put_context_type(metadata_store_pb2.ContextType(name="node"))
    ctx = store.get_context_by_type_and_name("node", f"{PIPELINE}.{node}")
    if ctx is None:
        [ctx_id] = store.put_contexts(
            [metadata_store_pb2.Context(type_id=node_type, name=f"{PIPELINE}.{node}")]
        )
    else:
        ctx_id = ctx.id
    exec_type = store.put_execution_type(metadata_store_pb2.ExecutionType(name=node))
    [ex_id] = store.put_executions(
        [metadata_store_pb2.Execution(type_id=exec_type, last_known_state=state)]
    )
    store.put_attributions_and_associations(
        [], [metadata_store_pb2.Association(context_id=ctx_id, execution_id=ex_id)]
    )
    return ex_id


def test_running_executions_are_marked_and_their_partial_output_removed(tmp_path):
    store = _store(tmp_path)
    root, serving = tmp_path / "pipelines" / "london", tmp_path / "serving" / "london"
    done = _execution(store, "Transform", metadata_store_pb2.Execution.COMPLETE)
    dead = _execution(store, "Trainer", metadata_store_pb2.Execution.RUNNING)
    other = _execution(store, "Trainer", metadata_store_pb2.Execution.COMPLETE)
    for node, ex_id in (("Transform", done), ("Trainer", dead), ("Trainer", other)):
        (root / node / "model" / str(ex_id)).mkdir(parents=True)
    (serving / "1700000000").mkdir(parents=True)
    (serving / ".staging-1700000001-abcd").mkdir()

    marked = abandoned.mark_abandoned_executions(store, PIPELINE, root, serving, {"pid": 4242})

    assert [(m.node_id, m.execution_id) for m in marked] == [("Trainer", dead)]
    [execution] = store.get_executions_by_id([dead])
    assert execution.last_known_state == metadata_store_pb2.Execution.FAILED
    assert "process 4242 died" in execution.custom_properties["abandoned"].string_value
    assert not (root / "Trainer" / "model" / str(dead)).exists()
    assert (root / "Trainer" / "model" / str(other)).is_dir()
    assert (root / "Transform" / "model" / str(done)).is_dir()
    assert sorted(os.listdir(serving)) == ["1700000000"]  # published kept, staging removed
    assert "Trainer (execution" in abandoned.describe(marked)
    assert abandoned.mark_abandoned_executions(store, PIPELINE, root, serving) == []
