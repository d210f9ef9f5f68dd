"""DriftGate executor: the window's drift statistics, compared with the baseline's.

Per split (train, eval): copies StatisticsGen's statistics (``FeatureStats.pb``) and
writes the derived features' (``DerivedStats.pb``, ``derived.py``) into the
``drift_statistics`` artifact, which the Evaluator records on its blessing; at its root,
the window's vehicles per day cell (``recent.DAY_CELLS_FILE``) and per Examples file
(``file_cells.py``: a run counts only the files its baseline did not). With a baseline
(the last blessed run of the city, ``strategy.py``), compares each split with the baseline's
same split, and this run's newest ``recent_days`` days with the baseline's days before
them (``recent.py``; 0: not), and writes TFDV's anomalies (``SchemaDiff.pb``, as
ExampleValidator and DistributionValidator do; the recent check's in ``Recent/``). The
result goes on both outputs as custom properties (``checks``); ``block`` with drift sets
``drift_blocked``, and the Evaluator then does not bless the model, so nothing is pushed.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import tensorflow as tf
from absl import logging
from tensorflow_metadata.proto.v0 import anomalies_pb2, statistics_pb2
from tfx import types
from tfx.components.statistics_gen import stats_artifact_utils
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils

from components.drift_gate import checks, comparison, derived, file_cells, recent
from components.traffic_example_gen import properties

STATISTICS_KEY = "statistics"
EXAMPLES_KEY = "examples"
BASELINE_KEY = "baseline"
DRIFT_STATISTICS_KEY = "drift_statistics"
ANOMALIES_KEY = "anomalies"
MODE_KEY = "mode"
THRESHOLDS_KEY = "thresholds"
DATA_KIND_KEY = "data_kind"
TIMEZONE_KEY = "timezone"  # the city's: the day cells' local days
RECENT_DAYS_KEY = "recent_days"  # the recent-days check's days; 0: the check is off
RECENT_DIR = "Recent"  # the recent check's anomalies: <anomalies>/Recent/SchemaDiff.pb

WINDOW_FILE = "FeatureStats.pb"  # StatisticsGen's file name, so TFX readers accept it
DERIVED_FILE = "DerivedStats.pb"
ANOMALIES_FILE = "SchemaDiff.pb"
SOURCE_FILES = ((checks.WINDOW, WINDOW_FILE), (checks.DERIVED, DERIVED_FILE))
# Examples files whose day cells were counted / taken from the baseline's (file_cells.py).
COUNTED_FILES = "drift_counted_files"
REUSED_FILES = "drift_reused_files"


def _read(path: str) -> statistics_pb2.DatasetFeatureStatisticsList | None:
    if not tf.io.gfile.exists(path):
        return None
    stats = statistics_pb2.DatasetFeatureStatisticsList()
    with tf.io.gfile.GFile(path, "rb") as handle:
        stats.ParseFromString(handle.read())
    return stats


def _write(path: str, proto) -> None:
    io_utils.write_bytes_file(path, proto.SerializeToString())


def split_dir(uri: str, split: str) -> str:
    """The split folder of an artifact (``Split-<name>``), as TFX lays them out."""
    return os.path.join(uri, f"Split-{split}")


def baseline_statistics_uri(baseline: list[types.Artifact]) -> str:
    """The drift statistics recorded on the baseline blessing ('' when none)."""
    if not baseline or not baseline[0].has_custom_property(checks.BLESSING_STATISTICS_URI):
        return ""
    return baseline[0].get_string_custom_property(checks.BLESSING_STATISTICS_URI)


def thresholds_by_source(thresholds: dict[str, float]) -> dict[str, dict[str, float]]:
    """{WINDOW | DERIVED: {feature: threshold}}."""
    result: dict[str, dict[str, float]] = {checks.WINDOW: {}, checks.DERIVED: {}}
    for name, value in thresholds.items():
        result[checks.CHECKS[name][2]][name] = value
    return result


def last_day(examples: types.Artifact, day_cells) -> datetime.date:
    """The Examples' last day (ExampleGen's ``last_day``), else the newest day counted."""
    if examples.has_custom_property(properties.LAST_DAY):
        return datetime.date.fromisoformat(examples.get_string_custom_property(properties.LAST_DAY))
    return datetime.date.fromisoformat(max(day_cells[derived.DAY]))


class Executor(base_executor.BaseExecutor):
    """Writes the drift statistics; compares them with the baseline's; records it."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        statistics = artifact_utils.get_single_instance(input_dict[STATISTICS_KEY])
        examples = artifact_utils.get_single_instance(input_dict[EXAMPLES_KEY])
        drift_stats = artifact_utils.get_single_instance(output_dict[DRIFT_STATISTICS_KEY])
        anomalies_out = artifact_utils.get_single_instance(output_dict[ANOMALIES_KEY])
        mode = exec_properties[MODE_KEY]
        by_source = thresholds_by_source(json.loads(exec_properties[THRESHOLDS_KEY]))
        splits = artifact_utils.decode_split_names(statistics.split_names)
        drift_stats.split_names = anomalies_out.split_names = statistics.split_names

        timezone = exec_properties[TIMEZONE_KEY]
        base_uri = baseline_statistics_uri(input_dict.get(BASELINE_KEY) or [])
        known = file_cells.read(base_uri) if base_uri else None
        current, day_cells, kept, reused, counted = {}, [], [], 0, 0
        for split in splits:
            window = stats_artifact_utils.load_statistics(statistics, split).proto()
            pattern = io_utils.all_files_pattern(artifact_utils.get_split_uri([examples], split))
            found = file_cells.day_cells(
                sorted(tf.io.gfile.glob(pattern)), exec_properties[DATA_KIND_KEY], timezone, known
            )
            cells = found.day_cells
            day_cells.append(cells)
            kept.append(found.file_cells)
            reused, counted = reused + found.reused_files, counted + found.counted_files
            current[split] = {
                checks.WINDOW: window,
                checks.DERIVED: derived.cell_statistics(derived.approach_hour_cells(cells)),
            }
            _write(os.path.join(split_dir(drift_stats.uri, split), WINDOW_FILE), window)
            _write(
                os.path.join(split_dir(drift_stats.uri, split), DERIVED_FILE),
                current[split][checks.DERIVED],
            )

        file_cells.write(drift_stats.uri, kept)
        logging.info("DriftGate: day cells of %d files counted, %d reused", counted, reused)
        measurements: list[checks.Measurement] = []
        compared = 0
        for split in splits:
            anomalies = anomalies_pb2.Anomalies()
            for source, file_name in SOURCE_FILES:
                if not base_uri or not by_source[source]:
                    continue
                base = _read(os.path.join(split_dir(base_uri, split), file_name))
                if base is None:
                    continue
                compared += 1
                found, raw = comparison.compare(
                    current[split][source], base, by_source[source], split
                )
                measurements += found
                anomalies.drift_skew_info.extend(raw.drift_skew_info)
                for name, info in raw.anomaly_info.items():
                    anomalies.anomaly_info[name].CopyFrom(info)
            _write(os.path.join(split_dir(anomalies_out.uri, split), ANOMALIES_FILE), anomalies)

        window_cells = derived.merge_day_cells(day_cells)
        recent.write_day_cells(os.path.join(drift_stats.uri, recent.DAY_CELLS_FILE), window_cells)
        recent_days = int(exec_properties.get(RECENT_DAYS_KEY) or 0)
        parts = None
        if recent_days and base_uri and compared:
            baseline_cells = recent.read_day_cells(os.path.join(base_uri, recent.DAY_CELLS_FILE))
            found, raw, parts = recent.compare_recent(
                window_cells,
                baseline_cells if baseline_cells is not None else window_cells.iloc[:0],
                last_day(examples, window_cells),
                recent_days,
                by_source[checks.DERIVED] | by_source[checks.WINDOW],
            )
            measurements += found
            _write(os.path.join(anomalies_out.uri, RECENT_DIR, ANOMALIES_FILE), raw)
            logging.info("DriftGate: %s", parts.describe())

        if not compared:  # nothing lost silently: a recorded baseline that is gone is said
            result = checks.BASELINE_MISSING if base_uri else checks.NO_BASELINE
        else:
            result = checks.DRIFT if any(m.drifted for m in measurements) else checks.OK
        blocked = int(mode == "block" and result == checks.DRIFT)
        for artifact in (drift_stats, anomalies_out):
            artifact.set_string_custom_property(checks.RESULT, result)
            artifact.set_string_custom_property(checks.MODE, mode)
            artifact.set_string_custom_property(
                checks.DRIFTED_FEATURES, ",".join(checks.drifted_features(measurements))
            )
            artifact.set_string_custom_property(checks.MEASUREMENTS, checks.to_json(measurements))
            artifact.set_string_custom_property(checks.BASELINE_URI, base_uri)
            artifact.set_int_custom_property(checks.BLOCKED, blocked)
            artifact.set_int_custom_property(COUNTED_FILES, counted)
            artifact.set_int_custom_property(REUSED_FILES, reused)
            artifact.set_string_custom_property(
                checks.RECENT_PARTS, parts.to_json() if parts else ""
            )
        logging.info("DriftGate: %s", checks.summary_line(result, mode, measurements))
