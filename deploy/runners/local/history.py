"""``traffic-pipeline history``: one line per run of a city, read back from ML Metadata.

Each line: the run id, the data it read (the rolling window with days ingested and
reused, or the span's files), the drift gate's result (``drift -`` without one), the
gate's metrics on the overall slice, the verdict and
the pushed version. Built on ``run_summary.summarize_run``, so a line says what the run
summary of that run said.
"""

from __future__ import annotations

import os

from components.drift_gate import checks as drift_checks
from components.traffic_example_gen import properties
from deploy.runners.local import run_summary
from deploy.runners.local.run_summary import RunSummary


def data_read(examples_properties: dict[str, object]) -> str:
    """The window line's content (``window: ...``), else the span's days and file count."""
    lines = run_summary.window_lines(examples_properties)
    if lines:
        return lines[0]
    first = examples_properties.get(properties.FIRST_DAY)
    if not first:
        return "data: ?"
    last = examples_properties.get(properties.LAST_DAY)
    return f"span: {first}..{last} ({examples_properties.get(properties.INPUT_FILES)} files)"


def gate_values(summary: RunSummary, gate_metrics: list[str]) -> str:
    """``name=value`` of each gated metric on the overall slice ('-' when absent)."""
    overall = dict(summary.metrics_by_slice).get("overall", {})
    parts = []
    for name in gate_metrics:
        value = next((v for k, v in overall.items() if k == name or k.endswith(f"/{name}")), None)
        parts.append(f"{name}={'-' if value is None else f'{value:.4g}'}")
    return " ".join(parts)


def verdict(summary: RunSummary) -> str:
    """BLESSED, NOT blessed, or 'not evaluated' (the run stopped before the Evaluator)."""
    if summary.blessed is None:
        return "not evaluated"
    return "BLESSED" if summary.blessed else "NOT blessed"


def pushed_version(summary: RunSummary) -> str:
    """The pushed version (the version directory's name), or why there is none."""
    if not summary.pushed_path:
        return "pushed: -"
    version = os.path.basename(summary.pushed_path.rstrip("/"))
    return f"pushed: {version}" + (" (already the latest)" if summary.already_published else "")


def history_line(summary: RunSummary, gate_metrics: list[str]) -> str:
    """One run as one line."""
    return " | ".join(
        [
            f"run {summary.run_id}",
            data_read(summary.row_counts),
            drift_checks.history_cell(summary.drift_result, summary.drift_measurements),
            gate_values(summary, gate_metrics) or "no gate",
            verdict(summary),
            pushed_version(summary),
        ]
    )


def history(store, pipeline_name: str, gate_metrics: list[str]) -> list[str]:
    """One line per run of ``pipeline_name``, oldest first."""
    from deploy.mlmd import metadata

    return [
        history_line(run_summary.summarize_run(store, pipeline_name, run_id), gate_metrics)
        for run_id in metadata.run_ids(store, pipeline_name)
    ]
