"""Everything in two statistics protos, flattened and compared both ways.

Every field of every feature (and of the dataset) is flattened to a ``path -> value``
map with ``MessageToDict``; repeated features are keyed by their feature path,
histograms by their type, custom stats by name, anything else by position. A key on one
side only is a difference (added, renamed or dropped statistic), and so is an unequal
value, except where TFDV itself approximates (``approximate``).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
from google.protobuf import json_format

FLOAT_REL_TOL = 1e-9  # summation order differs between batch layouts


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``path -> leaf value`` of a ``MessageToDict`` tree."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}/{key}"))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{_list_key(item, index)}]"))
        return out
    return {prefix: value}


def _list_key(item: Any, index: int) -> str:
    if isinstance(item, dict):
        if "path" in item:  # a feature
            return ".".join(item["path"]["step"])
        if "buckets" in item:  # a histogram (STANDARD is the proto default, so omitted)
            return item.get("type", "STANDARD")
        if "name" in item:  # a custom statistic
            return item["name"]
    return str(index)


def flat_statistics(stats) -> dict[str, Any]:
    """A DatasetFeatureStatisticsList flattened (field names as in the proto)."""
    return flatten(json_format.MessageToDict(stats, preserving_proto_field_name=True))


def _numbers_equal(ours: Any, theirs: Any) -> bool:
    if isinstance(ours, float) or isinstance(theirs, float):
        return math.isclose(float(ours), float(theirs), rel_tol=FLOAT_REL_TOL, abs_tol=1e-12)
    return ours == theirs


def differences(ours: dict[str, Any], theirs: dict[str, Any], approximate=None) -> list[str]:
    """Every difference of two flattened protos; ``approximate(key, ours, theirs)`` may
    accept an unequal value of a key TFDV only approximates (True: accepted)."""
    found = []
    for key in sorted(set(ours) | set(theirs)):
        if key not in theirs:
            found.append(f"only in ours: {key} = {ours[key]!r}")
        elif key not in ours:
            found.append(f"missing from ours: {key} = {theirs[key]!r}")
        elif not _numbers_equal(ours[key], theirs[key]) and not (
            approximate is not None and approximate(key, ours[key], theirs[key])
        ):
            found.append(f"differs: {key}: ours {ours[key]!r} vs {theirs[key]!r}")
    return found


# TFDV's documented approximations (StatsOptions): quantiles come from a sketch whose
# rank error is at most ``epsilon`` times the count (default 0.01), so two sketches of
# the same values agree to 2 epsilon in rank; top values come, on the sketch path, from
# a Misra-Gries sketch of 1000 buckets (count error at most N / 1000).
QUANTILE_VALUE = re.compile(
    r"^/datasets\[0\]/features\[(?P<feature>[^\]]+)\]/num_stats/"
    r"(median|histograms\[QUANTILES\]/buckets\[\d+\]/(low|high)_value)$"
)
HISTOGRAM_COUNT = re.compile(
    r"^/datasets\[0\]/features\[(?P<feature>[^\]]+)\]/\w+/"
    r"(histograms\[\w+\]|common_stats/num_values_histogram)/buckets\[\d+\]/sample_count$"
)
TOP_COUNT = re.compile(
    r"^/datasets\[0\]/features\[(?P<feature>[^\]]+)\]/string_stats/"
    r"(top_values\[\d+\]/frequency|rank_histogram/buckets\[\d+\]/sample_count)$"
)
MISRA_GRIES_BUCKETS = 1000


class SketchTolerance:
    """Accepts a quantile, histogram or top-k value within TFDV's sketch error, judged
    against the split's true values (``values``: feature -> every value of the split)."""

    def __init__(self, values: dict[str, list], epsilon: float = 0.01) -> None:
        self.sorted = {name: np.sort(np.asarray(v)) for name, v in values.items()}
        self.epsilon = epsilon

    def _rank_range(self, feature: str, value: float) -> tuple[int, int]:
        data = self.sorted[feature]
        return int(np.searchsorted(data, value, "left")), int(np.searchsorted(data, value, "right"))

    def __call__(self, key: str, ours: Any, theirs: Any) -> bool:
        match = QUANTILE_VALUE.match(key)
        if match and match["feature"] in self.sorted:
            n = len(self.sorted[match["feature"]])
            a, b = (
                self._rank_range(match["feature"], ours),
                self._rank_range(match["feature"], theirs),
            )
            gap = max(0, max(a[0], b[0]) - min(a[1], b[1]))
            return gap <= 2 * self.epsilon * n
        match = HISTOGRAM_COUNT.match(key) or TOP_COUNT.match(key)
        if match and match["feature"] in self.sorted:
            n = len(self.sorted[match["feature"]])
            bound = 2 * self.epsilon * n if HISTOGRAM_COUNT.match(key) else n / MISRA_GRIES_BUCKETS
            return abs(float(ours) - float(theirs)) <= bound
        return False
