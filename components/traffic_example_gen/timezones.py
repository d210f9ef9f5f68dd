"""UTC instants to local calendar fields in an IANA time zone (vectorised, DST-correct)."""

from __future__ import annotations

import dataclasses
import zoneinfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


@dataclasses.dataclass
class LocalCalendar:
    """Local calendar fields of a batch of instants."""

    day_of_week: np.ndarray  # int8, 0 = Monday
    hour: np.ndarray  # int8, 0-23
    yyyymmdd: np.ndarray  # int32 local date, e.g. 20260329


def check_timezone(timezone: str) -> None:
    """Raises ValueError unless ``timezone`` is a known IANA zone name."""
    try:
        zoneinfo.ZoneInfo(timezone)
        pc.hour(pa.array([0], pa.timestamp("us", tz=timezone)))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, pa.ArrowException) as e:
        raise ValueError(f"timezone={timezone!r} is not a known IANA time zone") from e


def local_calendar(ts_us: np.ndarray, timezone: str) -> LocalCalendar:
    """Local day of week, hour and date of UTC epoch-microsecond instants."""
    local = pa.array(np.asarray(ts_us, dtype=np.int64), pa.timestamp("us", tz=timezone))
    ymd = (
        pc.year(local).to_numpy().astype(np.int32) * 10_000
        + pc.month(local).to_numpy().astype(np.int32) * 100
        + pc.day(local).to_numpy().astype(np.int32)
    )
    return LocalCalendar(
        day_of_week=pc.day_of_week(local).to_numpy().astype(np.int8),
        hour=pc.hour(local).to_numpy().astype(np.int8),
        yyyymmdd=ymd,
    )
