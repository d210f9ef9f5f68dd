"""Runs interrupted by a dead process (kill -9, power loss): find, mark and clean them.

A local run holds an exclusive ``flock`` on ``<pipeline root>/.run-owner`` while it
runs; the kernel releases it when the process dies, however it dies. So when a new
run gets the lock, no live process owns this pipeline, and every execution of the
pipeline still ``RUNNING`` (or ``NEW``) in ML Metadata was left by a dead process: it
is marked ``FAILED`` with the custom property ``abandoned`` saying why and when, and
its partial output folders under the pipeline root are removed. Published models
(``serving/``) are never touched; only hidden staging folders a dead Pusher left
there are removed, and so are the temp dirs of dead runs (``remove_temp``).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from components.atomic_pusher.publish import STAGING_PREFIX

LOCK_FILE = ".run-owner"
ABANDONED_PROPERTY = "abandoned"
_LEFT_BEHIND = (metadata_store_pb2.Execution.RUNNING, metadata_store_pb2.Execution.NEW)


class AlreadyRunningError(RuntimeError):
    """Another live process is running the same pipeline on the same output."""


@dataclass(frozen=True)
class AbandonedExecution:
    """One execution marked as abandoned, and the partial folders removed for it."""

    node_id: str
    execution_id: int
    removed: tuple[str, ...]


@contextlib.contextmanager
def run_lock(pipeline_root: Path, pipeline_name: str) -> Iterator[dict]:
    """Holds the pipeline's owner lock for the run; yields the previous owner's record.

    Raises AlreadyRunningError (naming the owner's pid) if a live process holds it.
    """
    pipeline_root.mkdir(parents=True, exist_ok=True)
    path = pipeline_root / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = _read_owner(fd)
            raise AlreadyRunningError(
                f"pipeline {pipeline_name} is already running on this output "
                f"(pid {owner.get('pid', '?')} on {owner.get('host', '?')}, started "
                f"{owner.get('started', '?')}); wait for it to finish or stop it"
            ) from None
        previous = _read_owner(fd)
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode(), 0)
        yield previous
        os.ftruncate(fd, 0)  # a clean finish leaves no owner behind
    finally:
        os.close(fd)  # releases the lock


def _read_owner(fd: int) -> dict:
    raw = os.pread(fd, 4096, 0)
    try:
        owner = json.loads(raw) if raw else {}
    except json.JSONDecodeError:
        return {}
    return owner if isinstance(owner, dict) else {}


def _node_executions(
    store: metadata_store.MetadataStore, pipeline_name: str
) -> Iterator[tuple[str, metadata_store_pb2.Execution]]:
    prefix = f"{pipeline_name}."
    for ctx in store.get_contexts_by_type("node"):
        if ctx.name.startswith(prefix):
            for execution in store.get_executions_by_context(ctx.id):
                yield ctx.name[len(prefix) :], execution


def _partial_outputs(pipeline_root: Path, node_id: str, execution_id: int) -> list[Path]:
    """``<root>/<node>/<output key>/<execution id>`` and the executor's scratch dir."""
    node_dir = pipeline_root / node_id
    if not node_dir.is_dir():
        return []
    found = [d / str(execution_id) for d in node_dir.iterdir() if d.is_dir()]
    found.append(node_dir / ".system" / "executor_execution" / str(execution_id))
    return [p for p in found if p.is_dir()]


def mark_abandoned_executions(
    store: metadata_store.MetadataStore,
    pipeline_name: str,
    pipeline_root: Path,
    serving_base: Path,
    previous_owner: dict | None = None,
) -> list[AbandonedExecution]:
    """Marks the pipeline's left-behind executions FAILED/abandoned; removes their debris.

    Call only while holding ``run_lock`` (no live owner). Output folders of executions
    that completed, and every published model version, are left alone.
    """
    owner = previous_owner or {}
    why = (
        f"process {owner.get('pid', '?')} died while running it; marked "
        f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')} by pid {os.getpid()}"
    )
    live_uris = {
        a.uri.rstrip("/")
        for a in store.get_artifacts()
        if a.uri and a.state == metadata_store_pb2.Artifact.LIVE
    }
    marked = []
    for node_id, execution in _node_executions(store, pipeline_name):
        if execution.last_known_state not in _LEFT_BEHIND:
            continue
        execution.last_known_state = metadata_store_pb2.Execution.FAILED
        execution.custom_properties[ABANDONED_PROPERTY].string_value = why
        store.put_executions([execution])
        removed = []
        for folder in _partial_outputs(pipeline_root, node_id, execution.id):
            if str(folder) not in live_uris:  # never a folder an artifact points at
                shutil.rmtree(folder)
                removed.append(str(folder))
        marked.append(AbandonedExecution(node_id, execution.id, tuple(removed)))
    if marked and serving_base.is_dir():
        for staging in serving_base.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(staging)
    return marked


def remove_temp(tmp_dir: Path) -> list[str]:
    """Removes the temp dirs dead runs left in ``tmp_dir`` (the city's ``LocalLayout.tmp_dir``).

    Call only while holding ``run_lock``: a live run of the city would own them.
    """
    if not tmp_dir.is_dir():
        return []
    removed = []
    for left in sorted(tmp_dir.iterdir()):
        if left.is_dir() and not left.is_symlink():
            shutil.rmtree(left)
        else:
            left.unlink()
        removed.append(str(left))
    return removed


def describe(marked: list[AbandonedExecution]) -> str:
    """One line for the terminal."""
    nodes = ", ".join(f"{m.node_id} (execution {m.execution_id})" for m in marked)
    folders = sum(len(m.removed) for m in marked)
    return (
        f"marked {len(marked)} execution(s) left RUNNING by a dead process as abandoned: "
        f"{nodes}; removed {folders} partial output folder(s)"
    )
