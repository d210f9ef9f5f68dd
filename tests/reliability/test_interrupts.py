"""kill -9 in the middle of a run, then a re-run: it completes and cleans up after the dead one.

The killed run is a real ``traffic-pipeline run`` subprocess (its whole process group
gets SIGKILL while ML Metadata shows its Trainer RUNNING). While it is alive, a second
run of the same city on the same output is refused (exit 2). The re-run marks the dead
Trainer execution abandoned, removes its partial output, completes, and ``serving/``
only ever holds complete versions.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time

import pytest
from ml_metadata.proto import metadata_store_pb2

from deploy import exit_codes
from deploy.mlmd import metadata
from deploy.runners.local import abandoned
from pipeline import pipeline as wiring
from tests import e2e_support
from tests.reliability import faults
from transforms import features

pytestmark = pytest.mark.slow
EXIT_AFTER_SIGNAL_S = 600
RUNNING = metadata_store_pb2.Execution.RUNNING
LONDON = wiring.pipeline_name("london")
MODEL_FILES = (
    "saved_model.pb",
    features.EMBEDDING_TSV,
    features.EMBEDDING_METADATA_TSV,
    features.EMBEDDING_SPEC_FILE,
)


def _node_executions(output, node_id: str) -> list[metadata_store_pb2.Execution]:
    store = metadata.open_store(output / "metadata.sqlite")
    ctx = store.get_context_by_type_and_name("node", f"{LONDON}.{node_id}")
    return store.get_executions_by_context(ctx.id) if ctx else []


def _wait_until_running(output, node_id: str, process, known: set[int], timeout: float = 600):
    """The new execution of ``node_id`` once MLMD shows it RUNNING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the run ended before it could be killed"
        try:
            for execution in _node_executions(output, node_id):
                if execution.id not in known and execution.last_known_state == RUNNING:
                    return execution
        except (sqlite3.Error, RuntimeError):  # the writer holds the database for a moment
            pass
        time.sleep(0.5)
    raise AssertionError(f"{node_id} never started running")


def _execution(output, node_id: str, execution_id: int) -> metadata_store_pb2.Execution:
    return next(e for e in _node_executions(output, node_id) if e.id == execution_id)


def _versions(output) -> dict[str, list[str]]:
    base = output / "serving" / "london"
    return {p.name: sorted(os.listdir(p)) for p in base.iterdir()}


def _wait_for(path, process, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None and time.monotonic() < deadline, f"no {path}"
        time.sleep(0.2)


def test_kill_9_in_the_trainer_then_resume(baseline, tmp_path, capsys):
    output = baseline["output"]
    before = _versions(output)
    known = {e.id for e in _node_executions(output, wiring.TRAINER)}
    # Other train steps than the baseline: ExampleGen..Transform are cached, the Trainer
    # runs, long enough (5000 steps) to be killed inside it.
    log = tmp_path / "killed.log"
    process = faults.start_cli(
        faults.run_args(
            "london", baseline["config"], baseline["data"], output, "--train-steps", "5000"
        ),
        log,
    )
    # the re-run: a short Trainer, with steps no other test uses (never a cache hit)
    extra = ("--train-steps", "400")
    try:
        dead = _wait_until_running(output, wiring.TRAINER, process, known)
        partial = baseline["layout"].pipeline_root("london") / wiring.TRAINER / "model"
        partial = partial / str(dead.id)
        _wait_for(partial, process)  # it has started writing its output
        # A second run of the same city on the same output is refused while one is alive.
        code = e2e_support.run("london", baseline["config"], baseline["data"], output, *extra)
        assert code == exit_codes.BAD_INPUT
        faults.one_line_error(capsys.readouterr().err, "already running", f"pid {process.pid}")
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    # What kill -9 leaves behind: a RUNNING execution and its partial output.
    assert _execution(output, wiring.TRAINER, dead.id).last_known_state == RUNNING, log.read_text()
    assert partial.exists()

    code = e2e_support.run("london", baseline["config"], baseline["data"], output, *extra)
    out = capsys.readouterr().out
    assert code == exit_codes.OK, out
    assert "marked 1 execution(s) left RUNNING by a dead process as abandoned: " in out
    assert f"{wiring.TRAINER} (execution {dead.id})" in out

    marked = _execution(output, wiring.TRAINER, dead.id)
    assert marked.last_known_state == metadata_store_pb2.Execution.FAILED
    assert "died" in marked.custom_properties[abandoned.ABANDONED_PROPERTY].string_value
    assert not partial.exists()
    store = metadata.open_store(output / "metadata.sqlite")
    assert not [e for e in store.get_executions() if e.last_known_state == RUNNING]

    after = _versions(output)
    assert {k: after[k] for k in before} == before  # published versions untouched
    new = set(after) - set(before)
    assert len(new) == 1 and all(name.isdigit() for name in after)  # no staging debris
    for version in after:
        assert set(MODEL_FILES) <= set(after[version]), version


def test_ctrl_c_in_the_trainer_is_one_line_and_exit_130_then_resume(baseline, tmp_path, capsys):
    output = baseline["output"]
    before = faults.serving_listing(output)
    known = {e.id for e in _node_executions(output, wiring.TRAINER)}
    tmpdir = tmp_path / "TMPDIR"
    tmpdir.mkdir()
    out, err = tmp_path / "interrupted.out", tmp_path / "interrupted.err"
    process = faults.start_cli(
        faults.run_args(
            "london", baseline["config"], baseline["data"], output, "--train-steps", "5001"
        ),
        out,
        stderr=err,
        TMPDIR=str(tmpdir),
    )
    try:
        interrupted = _wait_until_running(output, wiring.TRAINER, process, known)
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal sends
        # A bound against a hang, not a speed check (the machine may be loaded).
        code = process.wait(timeout=EXIT_AFTER_SIGNAL_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert code == exit_codes.INTERRUPTED, out.read_text() + err.read_text()
    assert err.read_text().splitlines() == [
        f"error: interrupted during {wiring.TRAINER}; re-run resumes from cache"
    ]
    assert faults.serving_listing(output) == before
    assert os.listdir(tmpdir) == []  # nothing left in TMPDIR, nor in the run's own temp dir
    assert os.listdir(baseline["layout"].tmp_dir("london")) == []
    assert _execution(output, wiring.TRAINER, interrupted.id).last_known_state == RUNNING

    # A re-run (a short Trainer, as after kill -9): what ran before the Trainer comes
    # from cache, the interrupted execution is marked abandoned.
    extra = ("--train-steps", "401")  # not the kill -9 test's re-run: never a cache hit
    assert e2e_support.run("london", baseline["config"], baseline["data"], output, *extra) == 0
    assert f"{wiring.TRAINER} (execution {interrupted.id})" in capsys.readouterr().out
    marked = _execution(output, wiring.TRAINER, interrupted.id)
    assert marked.last_known_state == metadata_store_pb2.Execution.FAILED
    _, nodes = faults.latest_run(output, "london")
    for node in (wiring.EXAMPLE_GEN, wiring.STATISTICS_GEN, wiring.TRANSFORM):
        assert nodes[node].cached, node
    after = faults.serving_listing(output)
    assert set(before["london"]) <= set(after["london"])  # nothing published was lost
