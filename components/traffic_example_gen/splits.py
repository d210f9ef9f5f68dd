"""Train/eval split rules: by local day (evaluate on the future) or by row hash."""

from __future__ import annotations

import dataclasses
import datetime
import json

import numpy as np

TRAIN = "train"
EVAL = "eval"
SPLIT_NAMES = (TRAIN, EVAL)
TIME = "time"
HASH = "hash"
# The one default split, for the component and for a config without a split section
# (``pipeline.config.SplitConfig`` takes its defaults from here): the last week is eval.
DEFAULT_SPLIT_KIND = TIME
DEFAULT_EVAL_DAYS = 7
DEFAULT_SPLIT_CONFIG = json.dumps({"kind": DEFAULT_SPLIT_KIND, "eval_days": DEFAULT_EVAL_DAYS})
HASH_BUCKETS = 1_000_000


@dataclasses.dataclass(frozen=True)
class SplitRule:
    """Decides which rows go to ``eval``.

    Time rule: rows whose local date is >= ``eval_from_yyyymmdd``. Hash rule: rows
    whose identity hash falls in the first ``eval_fraction`` of the buckets.
    """

    kind: str
    eval_from_yyyymmdd: int = 0
    eval_fraction: float = 0.0

    def eval_mask(
        self,
        intersection: np.ndarray,
        direction: np.ndarray,
        ts_us: np.ndarray,
        local_yyyymmdd: np.ndarray,
    ) -> np.ndarray:
        """Boolean mask of eval rows."""
        if self.kind == TIME:
            return local_yyyymmdd >= self.eval_from_yyyymmdd
        import pandas as pd  # here: the config loader (and `lineage`) import this module

        identity = pd.DataFrame({"i": intersection, "d": direction, "t": ts_us})
        hashes = pd.util.hash_pandas_object(identity, index=False).to_numpy()
        return (hashes % HASH_BUCKETS) < round(self.eval_fraction * HASH_BUCKETS)

    def split_of_day(self, day: datetime.date) -> str:
        """The split of every row of local ``day`` under a time rule."""
        if self.kind != TIME:
            raise ValueError(f"a {self.kind} split does not assign whole days")
        return EVAL if yyyymmdd(day) >= self.eval_from_yyyymmdd else TRAIN


def yyyymmdd(day: datetime.date) -> int:
    """A date as the int ``YYYYMMDD`` (how local dates are compared, vectorised)."""
    return day.year * 10_000 + day.month * 100 + day.day


def eval_day_count(config: dict, n_days: int) -> int:
    """How many of ``n_days`` local days a time split ``config`` puts into eval.

    ``eval_days`` as given; ``eval_fraction`` of the days, rounded, with at least one
    train and one eval day.
    """
    fraction = config.get("eval_fraction")
    if fraction is not None:
        return min(max(round(float(fraction) * n_days), 1), n_days - 1)
    return int(config["eval_days"])


def make_split_rule(split_config: str, days: list[datetime.date]) -> SplitRule:
    """Builds the rule from the JSON ``split_config`` and the sorted selected days.

    ``days`` should hold only days with data rows: an empty (header-only) day must not
    take a train or eval day.

    ``{"kind": "time", "eval_days": N}`` or ``{"kind": "time", "eval_fraction": f}``
    put the last local days into eval (at least one train and one eval day);
    ``{"kind": "hash", "eval_fraction": f}`` splits rows by a deterministic hash.
    """
    try:
        config = json.loads(split_config or DEFAULT_SPLIT_CONFIG)
    except json.JSONDecodeError as e:
        raise ValueError(f"split_config is not valid JSON: {split_config!r}") from e
    if not isinstance(config, dict):
        raise ValueError(f"split_config must be a JSON object: {split_config!r}")
    unknown = set(config) - {"kind", "eval_days", "eval_fraction"}
    if unknown:
        raise ValueError(f"split_config has unknown keys {sorted(unknown)}: {split_config!r}")
    kind = config.get("kind", TIME)
    fraction = config.get("eval_fraction")
    if fraction is not None and not 0.0 < float(fraction) < 1.0:
        raise ValueError(f"split_config eval_fraction must be in (0, 1): {split_config!r}")
    if kind == HASH:
        if fraction is None or "eval_days" in config:
            raise ValueError(f"a hash split needs only eval_fraction: {split_config!r}")
        return SplitRule(kind=HASH, eval_fraction=float(fraction))
    if kind != TIME:
        raise ValueError(f"split_config kind must be 'time' or 'hash': {split_config!r}")
    if (fraction is None) == ("eval_days" not in config):
        raise ValueError(f"a time split needs eval_days or eval_fraction: {split_config!r}")
    n_days = len(days)
    if n_days < 2:
        raise ValueError(
            f"a time split needs at least 2 days with data rows, got {n_days} (header-only "
            "files do not count); widen the span or use a hash split"
        )
    n_eval = eval_day_count(config, n_days)
    if not 1 <= n_eval < n_days:
        raise ValueError(
            f"split_config eval_days={n_eval} must be in [1, {n_days - 1}] for "
            f"{n_days} days of input"
        )
    return SplitRule(kind=TIME, eval_from_yyyymmdd=yyyymmdd(days[n_days - n_eval]))
