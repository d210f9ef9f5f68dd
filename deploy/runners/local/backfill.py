"""``traffic-pipeline backfill``: the nightly job once per day, in order, stopping at the
first failure.

The loop only: each night is ``run`` with its own ``--as-of`` (given as ``run_night``), so
a night already done is a run whose every component is a cache hit (TFX caching, keyed on
the window's file listing), reported as already done.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

from deploy import exit_codes
from deploy.runners.local import history, run_summary

# A night that completed: pushed, or not blessed (the run's own exit code 3: a normal
# outcome of a night, shown in its line, that does not stop the backfill).
COMPLETED = (exit_codes.OK, exit_codes.NOT_BLESSED)


def nights(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def night_line(day: date, store, pipeline_name: str, run_id: str, gate_metrics: list[str]) -> str:
    """The night's line: already done (every component cached) or done, then its history
    line (window with days ingested and reused, gate metrics, verdict, push)."""
    summary = run_summary.summarize_run(store, pipeline_name, run_id)
    cached = bool(summary.executions) and all(s == "CACHED" for _, s in summary.executions)
    state = "already done (cached)" if cached else "done"
    return f"{day.isoformat()}: {state} | {history.history_line(summary, gate_metrics)}"


def backfill(
    first: date,
    last: date,
    run_night: Callable[[date], int],
    describe: Callable[[date], str],
    report: Callable[[str], None] = print,
) -> int:
    """Runs ``run_night(day)`` for each day from ``first`` to ``last`` and reports one line
    per day (``describe(day)`` when it completed); returns OK, or the first failing
    night's exit code after a line naming that day."""
    for day in nights(first, last):
        code = run_night(day)
        if code not in COMPLETED:
            report(f"{day.isoformat()}: FAILED (exit {code}); backfill stopped at this day")
            return code
        report(describe(day))
    return exit_codes.OK
