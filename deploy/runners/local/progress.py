"""Per-component progress of a local run, read from ML Metadata while the run goes on.

TFX registers every node's execution in MLMD (``NEW``/``RUNNING`` when it starts, then
``COMPLETE``, ``CACHED`` or ``FAILED``) in the run's ``pipeline_run`` context, with
its creation and last-update times. ``RunProgress`` polls the store on its own
connection from a thread, finds the pipeline's new run, and reports each execution
once as ``running`` and once in its final state, with the time MLMD recorded between
the two (a cache hit first seen already ``CACHED`` is reported only as ``cached``).
Nothing depends on the wording of TFX's log lines.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from absl import logging as absl_logging
from ml_metadata import errors as mlmd_errors
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from deploy.mlmd import metadata

# report(node id, state, elapsed seconds): state is one of the names below.
ProgressCallback = Callable[[str, str, float], None]
RUNNING = "running"
DONE = "done"
CACHED = "cached"
FAILED = "failed"
CANCELED = "canceled"
_Execution = metadata_store_pb2.Execution
FINAL_STATES = {
    _Execution.COMPLETE: DONE,
    _Execution.CACHED: CACHED,
    _Execution.FAILED: FAILED,
    _Execution.CANCELED: CANCELED,
}
POLL_SECONDS = 0.5
FINAL_POLL_ATTEMPTS = 5
_NODE_CONTEXT = "node"
_RUN_CONTEXT = "pipeline_run"


class RunProgress:
    """Reports a pipeline run's component states from MLMD while it runs.

    Use as a context manager around the run: entering opens a separate connection
    (creating an empty store's schema before TFX connects) and notes the runs that
    already exist; leaving stops the thread after one last poll, so every final
    state is reported before the caller goes on.
    """

    def __init__(
        self,
        location: str | Path,
        pipeline_name: str,
        report: ProgressCallback,
        poll_seconds: float = POLL_SECONDS,
    ):
        self._location = location
        self._pipeline_name = pipeline_name
        self._report = report
        self._poll_seconds = poll_seconds
        self._store: metadata_store.MetadataStore | None = None
        self._old_runs: set[int] = set()
        self._run: metadata_store_pb2.Context | None = None
        self._nodes: dict[int, str] = {}  # execution id -> node id
        self._reported: dict[int, str] = {}  # execution id -> last reported state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mlmd-progress", daemon=True)

    def __enter__(self) -> RunProgress:
        self._store = metadata_store.MetadataStore(metadata.connection_config(self._location))
        self._old_runs = {c.id for c in self._store.get_contexts_by_type(_RUN_CONTEXT)}
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def run_id(self) -> str | None:
        """The run's id (its ``pipeline_run`` context), once MLMD has it."""
        return self._run.name if self._run else None

    def failed_node(self) -> str | None:
        """After the run: the node whose execution failed, else one left running."""
        if self._store is None:
            return None
        try:
            states = [(self._nodes[e.id], e.last_known_state) for e in self._executions()]
        except (mlmd_errors.StatusError, RuntimeError) as err:
            absl_logging.warning("progress: cannot read ML Metadata (%s)", err)
            return None
        for wanted in ((_Execution.FAILED,), (_Execution.RUNNING, _Execution.NEW)):
            nodes = [node for node, state in states if state in wanted]
            if nodes:
                return nodes[-1]
        return None

    def _loop(self) -> None:
        while not self._stop.wait(self._poll_seconds):
            self._poll()
        for _ in range(FINAL_POLL_ATTEMPTS):  # the states written since the last poll
            if self._poll():
                return
            time.sleep(self._poll_seconds)

    def _poll(self) -> bool:
        """Reports what changed since the last poll; False if MLMD could not be read."""
        try:
            executions = self._executions()
        # The writer may hold SQLite past MLMD's busy retries; read again next time.
        except (mlmd_errors.StatusError, RuntimeError) as err:
            absl_logging.warning("progress: cannot read ML Metadata now (%s); retrying", err)
            return False
        for execution in executions:
            node = self._nodes[execution.id]
            final = FINAL_STATES.get(execution.last_known_state)
            if execution.id not in self._reported:
                self._reported[execution.id] = RUNNING
                if final != CACHED:  # a cache hit seen only once finished: just "cached"
                    self._report(node, RUNNING, 0.0)
            if final and self._reported[execution.id] != final:
                self._reported[execution.id] = final
                elapsed_ms = execution.last_update_time_since_epoch - (
                    execution.create_time_since_epoch
                )
                self._report(node, final, max(elapsed_ms, 0) / 1000)
        return True

    def _executions(self) -> list[metadata_store_pb2.Execution]:
        """This run's executions whose node is known, in the order they were registered."""
        run = self._run or self._find_run()
        if run is None:
            return []
        executions = sorted(self._store.get_executions_by_context(run.id), key=lambda e: e.id)
        for execution in executions:
            if execution.id not in self._nodes:
                node = self._node_of(execution.id)
                if node:
                    self._nodes[execution.id] = node
        return [e for e in executions if e.id in self._nodes]

    def _find_run(self) -> metadata_store_pb2.Context | None:
        """The pipeline's run context created after entering (None until TFX makes it)."""
        pipeline = self._store.get_context_by_type_and_name("pipeline", self._pipeline_name)
        if pipeline is None:
            return None
        for context in sorted(self._store.get_contexts_by_type(_RUN_CONTEXT), key=lambda c: c.id):
            if context.id in self._old_runs:
                continue
            parents = self._store.get_parent_contexts_by_context(context.id)
            if any(p.id == pipeline.id for p in parents):
                self._run = context
                return context
            if parents:  # another pipeline's run (e.g. another city on this output)
                self._old_runs.add(context.id)
        return None

    def _node_of(self, execution_id: int) -> str:
        prefix = f"{self._pipeline_name}."
        node_type = self._store.get_context_type(_NODE_CONTEXT)
        for context in self._store.get_contexts_by_execution(execution_id):
            if context.type_id == node_type.id and context.name.startswith(prefix):
                return context.name[len(prefix) :]
        return ""
