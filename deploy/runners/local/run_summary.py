"""The end-of-run summary: row accounting, metrics by slice, blessing, push, embeddings.

Everything is read back from ML Metadata and the artifacts it points to, so the
summary shows what the pipeline recorded, not what the CLI believes happened.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field

import tensorflow_model_analysis as tfma
from tensorflow_metadata.proto.v0 import statistics_pb2
from tfx.dsl.io import fileio
from tfx.utils import path_utils

from components.atomic_pusher.executor import ALREADY_PUBLISHED_PROPERTY
from components.drift_gate import checks as drift_checks
from components.traffic_example_gen import coverage, properties, window
from components.traffic_example_gen.accounting import (
    COUNTS_FILE,
    SAME_SECOND_VEHICLES_KEPT,
    TRUNCATED_ROW,
    UNLABELED_BEFORE_GAP,
    files_with,
)
from components.traffic_example_gen.splits import EVAL, TRAIN
from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from transforms import features


@dataclass
class RunSummary:
    """What one run did, as recorded in MLMD."""

    run_id: str
    executions: list[tuple[str, str]] = field(default_factory=list)  # (node, state)
    row_counts: dict[str, object] = field(default_factory=dict)
    rejects_uri: str = ""
    metrics_by_slice: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    blessed: bool | None = None
    blessing_reason: str = ""
    pushed_path: str = ""
    already_published: bool = False  # the same model was the latest version: not copied again
    model_dir: str = ""
    likely_truncated_days: list[coverage.ShortDay] = field(default_factory=list)
    truncated_row_files: list[str] = field(default_factory=list)  # a cut last row rejected
    # {vehicle type: eval examples} of the types with no train example.
    eval_only_types: dict[str, int] = field(default_factory=dict)
    # The drift gate's result ('' when the pipeline has none), mode and measurements.
    drift_result: str = ""
    drift_mode: str = ""
    drift_measurements: list[drift_checks.Measurement] = field(default_factory=list)
    drift_recent: drift_checks.RecentParts | None = None  # what the recent-days check compared

    @property
    def drift_blocked(self) -> bool:
        return self.drift_mode == "block" and self.drift_result == drift_checks.DRIFT

    def drift_line(self) -> str:
        """The summary's drift line ('' without a drift gate)."""
        if not self.drift_result:
            return ""
        return drift_checks.summary_line(
            self.drift_result, self.drift_mode, self.drift_measurements
        )

    def eval_only_note(self) -> str:
        """Names the vehicle types seen only in the eval days ('' if none)."""
        if not self.eval_only_types:
            return ""
        types = ", ".join(f"{t!r} ({n} eval examples)" for t, n in self.eval_only_types.items())
        return (
            f"vehicle type {types} seen only in the eval days, never in training, so the "
            "model cannot predict it"
        )

    @property
    def embedding_files(self) -> list[str]:
        base = self.pushed_path or self.model_dir
        if not base:
            return []
        return [
            os.path.join(base, n) for n in (features.EMBEDDING_TSV, features.EMBEDDING_METADATA_TSV)
        ]


def _slice_name(slice_key: tuple) -> str:
    return ", ".join(f"{k}={v}" for k, v in slice_key) or "overall"


def _slice_order(slice_key: tuple) -> tuple:
    """Overall first, then by feature, then by value (numbers numerically)."""
    return tuple((k, v if isinstance(v, (int, float)) else 0, str(v)) for k, v in slice_key)


def _flatten_metrics(per_output: dict) -> dict[str, float]:
    flat: dict[str, float] = {}
    for output, by_sub_key in per_output.items():
        for _sub_key, metrics in by_sub_key.items():
            for name, value in metrics.items():
                if "doubleValue" in value:
                    flat[f"{output}/{name}" if output else name] = value["doubleValue"]
    return flat


def _validation_reason(evaluation_uri: str) -> tuple[bool, str]:
    result = tfma.load_validation_result(evaluation_uri)
    if result.validation_ok:
        return True, "every threshold passed"
    failures = []
    for per_slice in result.metric_validations_per_slice:
        for failure in per_slice.failures:
            bound = failure.metric_threshold
            if bound.HasField("value_threshold"):
                rule = f"upper bound {bound.value_threshold.upper_bound.value:g}"
            else:
                rule = f"max increase {bound.change_threshold.absolute.value:g} vs the baseline"
            failures.append(
                f"{failure.metric_key.name}={failure.metric_value.double_value.value:.4g} "
                f"fails {rule}"
            )
    return False, "; ".join(failures[:5]) or "validation failed"


@contextlib.contextmanager
def _quiet_tensorflow():
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def metrics_by_slice(evaluation_uri: str) -> list[tuple[str, dict[str, float]]]:
    """(slice name, {output/metric: value}) of a TFMA evaluation, overall first."""
    with _quiet_tensorflow():  # TFMA's reader logs deprecation notices
        result = tfma.load_eval_result(evaluation_uri)
    return [
        (_slice_name(k), _flatten_metrics(v))
        for k, v in sorted(result.slicing_metrics, key=lambda m: _slice_order(m[0]))
    ]


def _type_counts(statistics_uri: str, split: str) -> dict[str, int]:
    """{vehicle type: examples} of one split, from StatisticsGen's statistics."""
    path = os.path.join(statistics_uri, f"Split-{split}", "FeatureStats.pb")
    if not fileio.exists(path):
        return {}
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    with fileio.open(path, "rb") as handle:
        stats.ParseFromString(handle.read())
    for dataset in stats.datasets:
        for feature in dataset.features:
            name = feature.path.step[-1] if feature.path.step else feature.name
            if name == features.VEHICLE_TYPE:
                return {v.value: int(v.frequency) for v in feature.string_stats.top_values}
    return {}


def eval_only_types(statistics_uri: str) -> dict[str, int]:
    """{vehicle type: eval examples} of the types with eval examples and no train one."""
    train = _type_counts(statistics_uri, TRAIN)
    return {
        t: n
        for t, n in sorted(_type_counts(statistics_uri, EVAL).items())
        if n and not train.get(t)
    }


def _truncated_row_files(rejects_uri: str) -> list[str]:
    path = os.path.join(rejects_uri, COUNTS_FILE)
    if not fileio.exists(path):
        return []
    with fileio.open(path) as handle:
        return files_with(json.loads(handle.read()), TRUNCATED_ROW)


def summarize_run(store, pipeline_name: str, run_id: str) -> RunSummary:
    """Builds the summary of one run from MLMD."""
    summary = RunSummary(run_id=run_id)
    for node in metadata.run_executions(store, pipeline_name, run_id):
        summary.executions.append((node.node_id, node.state))
        ex_id = node.execution.id
        if node.node_id == wiring.EXAMPLE_GEN:
            for art in metadata.outputs_of(store, ex_id, "examples"):
                summary.row_counts = metadata.custom_properties(art)
                summary.likely_truncated_days = coverage.from_json(
                    str(summary.row_counts.get(coverage.LIKELY_TRUNCATED_DAYS) or "")
                )
            for art in metadata.outputs_of(store, ex_id, "rejects"):
                summary.rejects_uri = art.uri
                summary.truncated_row_files = _truncated_row_files(art.uri)
        elif node.node_id == wiring.STATISTICS_GEN:
            for art in metadata.outputs_of(store, ex_id, "statistics"):
                summary.eval_only_types = eval_only_types(art.uri)
        elif node.node_id == wiring.DRIFT_GATE:
            for art in metadata.outputs_of(store, ex_id, "drift_statistics"):
                props = metadata.custom_properties(art)
                summary.drift_result = str(props.get(drift_checks.RESULT, ""))
                summary.drift_mode = str(props.get(drift_checks.MODE, ""))
                summary.drift_measurements = drift_checks.from_json(
                    str(props.get(drift_checks.MEASUREMENTS) or "")
                )
                summary.drift_recent = drift_checks.RecentParts.from_json(
                    str(props.get(drift_checks.RECENT_PARTS) or "")
                )
        elif node.node_id == wiring.TRAINER:
            for art in metadata.outputs_of(store, ex_id, "model"):
                summary.model_dir = path_utils.serving_model_dir(art.uri)
        elif node.node_id == wiring.EVALUATOR:
            for art in metadata.outputs_of(store, ex_id, "evaluation"):
                summary.metrics_by_slice = metrics_by_slice(art.uri)
                summary.blessed, summary.blessing_reason = _validation_reason(art.uri)
        elif node.node_id == wiring.PUSHER:
            for art in metadata.outputs_of(store, ex_id, "pushed_model"):
                props = metadata.custom_properties(art)
                summary.pushed_path = str(props.get("pushed_destination", ""))
                summary.already_published = bool(props.get(ALREADY_PUBLISHED_PROPERTY))
    if summary.drift_blocked and summary.blessed is not None:  # the Evaluator withheld it
        reasons = [drift_checks.blocked_reason(summary.drift_measurements)]
        if not summary.blessed:
            reasons.append(summary.blessing_reason)
        summary.blessed, summary.blessing_reason = False, "; ".join(reasons)
    return summary


GATED_COLUMNS = (
    (features.HEADWAY_OUTPUT, "headway_nll", "headway_nll"),
    (features.HEADWAY_OUTPUT, "headway_nll_vs_constant", "nll_vs_const"),
    (features.APPROACH_COMPARISON_OUTPUT, "nll_vs_approach_average", "nll_vs_table"),
    (features.VEHICLE_TYPE_OUTPUT, "sparse_categorical_crossentropy", "type_xent"),
    (features.VEHICLE_TYPE_OUTPUT, "vehicle_type_crossentropy_vs_prior", "xent_vs_prior"),
    (features.VEHICLE_TYPE_OUTPUT, "sparse_categorical_accuracy", "type_acc"),
    (features.HEADWAY_OUTPUT, "mean_absolute_error", "headway_mae_s"),
    # Hourly counts models (data.kind counts).
    (features.VEHICLES_PER_HOUR_OUTPUT, "count_nll", "count_nll"),
    (features.VEHICLES_PER_HOUR_OUTPUT, "count_nll_vs_constant", "cnll_vs_const"),
    (features.VEHICLES_PER_HOUR_OUTPUT, "count_mean_absolute_error", "count_mae"),
    ("", "example_count", "examples"),
)


def window_lines(examples_properties: dict[str, object]) -> list[str]:
    """The window line (``window.summary_line``) and its missing days; none without one."""
    props = examples_properties
    if not props.get(properties.WINDOW_FIRST):
        return []
    lines = [
        window.summary_line(
            str(props[properties.WINDOW_FIRST]),
            str(props.get(properties.WINDOW_LAST)),
            int(props.get(properties.WINDOW_DAYS) or 0),
            int(props.get(properties.DAYS_INGESTED) or 0),
            int(props.get(properties.DAYS_REUSED) or 0),
        )
    ]
    missing = json.loads(str(props.get(properties.MISSING_DAYS) or "[]"))
    if missing:
        lines.append(f"window days missing ({len(missing)}): {', '.join(missing)}")
    if props.get(properties.CACHE_PRUNED_BEFORE):
        lines.append(
            f"day cache: pruned {int(props.get(properties.CACHE_DAYS_PRUNED) or 0)} day(s) "
            f"before {props[properties.CACHE_PRUNED_BEFORE]}"
        )
    return lines


def format_summary(summary: RunSummary) -> str:
    """Human-readable summary for the terminal."""
    lines = [f"run {summary.run_id}"]
    ran = [node for node, state in summary.executions if state != "CACHED"]
    cached = len(summary.executions) - len(ran)
    lines.append(
        f"  components: {len(summary.executions)}, {cached} from cache"
        + (f"; executed: {', '.join(ran)}" if ran else "")
    )
    counts = summary.row_counts
    lines += [f"  {line}" for line in window_lines(counts)]
    if summary.drift_result:
        lines.append(f"  {summary.drift_line()}")
    if summary.drift_recent is not None:
        lines.append(f"  drift recent days: {summary.drift_recent.describe()}")
    if counts:
        rejected = {k: v for k, v in counts.items() if k.startswith("rejected_") and v}
        same_second = counts.get(SAME_SECOND_VEHICLES_KEPT, 0)
        before_gap = counts.get(UNLABELED_BEFORE_GAP, 0)
        lines.append(
            f"  rows read {counts.get('rows_read')}, written train {counts.get('examples_train')}"
            f" / eval {counts.get('examples_eval')}, rejected {counts.get('rejected_total')}"
            + (f" {rejected}" if rejected else "")
            + f", unlabeled last vehicles {counts.get('unlabeled_last_vehicles')}"
            + (f", unlabeled before a missing day or a cut {before_gap}" if before_gap else "")
            + (f", same-second vehicles kept {same_second}" if same_second else "")
        )
        if summary.rejects_uri:
            lines.append(f"  rejects: {summary.rejects_uri}")
        for path in summary.truncated_row_files:
            lines.append(f"  cut last row rejected ({TRUNCATED_ROW}): {path}")
        for day in summary.likely_truncated_days:
            lines.append(f"  likely truncated day: {day.describe()}")
    if summary.metrics_by_slice:
        # Only the columns of the model's data kind (the others have no value anywhere).
        computed = {k for _, metrics in summary.metrics_by_slice for k in metrics}
        columns = [
            c
            for c in GATED_COLUMNS
            if not c[0] or any(k in computed for k in (f"{c[0]}/{c[1]}", c[1]))
        ]
        header = f"  {'slice':<22}" + "".join(f"{c[2]:>15}" for c in columns)
        lines += ["  eval metrics by slice:", header]
        for name, metrics in summary.metrics_by_slice:
            row = f"  {name:<22}"
            for output, metric, _ in columns:
                value = metrics.get(f"{output}/{metric}" if output else metric)
                if value is None and not output:  # example_count is reported per output
                    value = next((v for k, v in metrics.items() if k.endswith(metric)), None)
                if value is None:
                    row += f"{'-':>15}"
                elif metric == "example_count":
                    row += f"{value:>15,.0f}"
                else:
                    row += f"{value:>15.4g}"
            lines.append(row)
    if summary.eval_only_types:
        lines.append(f"  {summary.eval_only_note()}")
    if summary.blessed is not None:
        verdict = "BLESSED" if summary.blessed else "NOT blessed"
        lines.append(f"  model: {verdict}: {summary.blessing_reason}")
    pushed = summary.pushed_path or "nothing pushed"
    if summary.already_published:
        pushed += " (the same model was already the latest version: not published again)"
    lines.append(f"  pushed: {pushed}")
    if summary.embedding_files:
        lines.append(f"  embedding (TensorBoard projector): {' '.join(summary.embedding_files)}")
    return "\n".join(lines)
