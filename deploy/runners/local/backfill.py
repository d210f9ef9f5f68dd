"""``traffic-pipeline backfill``: the nightly job once per day, in order, stopping at the
first failure.

The loop only: each night is ``run`` with its own ``--as-of`` (given as ``run_night``);
a night already done (``done_run``: a finished run on the same window files) is reported
and not run again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from deploy import exit_codes
from deploy.mlmd import metadata
from deploy.runners.local import history, run_summary
from pipeline import names as wiring

# A night that completed: pushed, or not blessed (the run's own exit code 3: a normal
# outcome of a night, shown in its line, that does not stop the backfill).
COMPLETED = (exit_codes.OK, exit_codes.NOT_BLESSED)


def nights(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def night_line(
    day: date, state: str, store, pipeline_name: str, run_id: str, gate_metrics: list[str]
) -> str:
    """The night's line: its state (done, already done), then its run's history line
    (window with days ingested and reused, gate metrics, verdict, push)."""
    summary = run_summary.summarize_run(store, pipeline_name, run_id)
    return f"{day.isoformat()}: {state} | {history.history_line(summary, gate_metrics)}"


def done_run(store, pipeline_name: str, input_token: str) -> str | None:
    """The latest run of ``pipeline_name`` that read the same window files (ExampleGen's
    ``input_token``: the ``as_of`` and each file's name, size and mtime) and went through
    to the Pusher, else None.

    Such a night is not run again: the run would be cached up to the Trainer, but its
    Evaluator's baseline is the latest blessed model, which later nights have replaced,
    so it would evaluate again and could push an older model over a newer one.
    """
    from components.traffic_example_gen.executor import INPUT_TOKEN_KEY  # imports Beam

    finished = (metadata.COMPLETE, metadata.CACHED)
    for run_id in reversed(metadata.run_ids(store, pipeline_name)):
        executions = metadata.run_executions(store, pipeline_name, run_id)
        states = {e.node_id: e.execution.last_known_state for e in executions}
        tokens = {
            e.execution.custom_properties[INPUT_TOKEN_KEY].string_value
            for e in executions
            if e.node_id == wiring.EXAMPLE_GEN and INPUT_TOKEN_KEY in e.execution.custom_properties
        }
        if input_token in tokens and states.get(wiring.PUSHER) in finished:
            return run_id
    return None


def backfill(
    first: date,
    last: date,
    run_night: Callable[[date], int],
    describe: Callable[[date], str],
    already_done: Callable[[date], str | None] = lambda day: None,
    report: Callable[[str], None] = print,
) -> int:
    """For each day from ``first`` to ``last``: reports ``already_done(day)`` if it is a
    line, else runs ``run_night(day)`` and reports ``describe(day)``; stops at the first
    failing night with a line naming it, and returns its exit code (else OK)."""
    for day in nights(first, last):
        done = already_done(day)
        if done is not None:
            report(done)
            continue
        code = run_night(day)
        if code not in COMPLETED:
            report(f"{day.isoformat()}: FAILED (exit {code}); backfill stopped at this day")
            return code
        report(describe(day))
    return exit_codes.OK
