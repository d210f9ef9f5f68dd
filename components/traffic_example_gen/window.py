"""The rolling window: which local days a run reads, resolved when the run starts.

Pure (no I/O): the executor lists the data root and passes the days it found and the
clock. A **complete** day is a local day (in the city's time zone) that has fully
ended: ``now`` is at or after the first instant of the next local day. DST days are
23 or 25 hours long and count as one day like any other; a midnight that does not
exist (a zone that springs forward at 24:00) ends the day at the transition instant.

- Without ``as_of``: the window ends at the newest complete day that has a file, and
  holds the ``window_days`` calendar days up to it. Files of days that are not complete
  yet (today, or a future day) are ignored.
- With ``as_of``: the window is the ``window_days`` days ending at ``as_of``, which
  must be complete; files after it are ignored (a backfill sees the data as it was).

Days inside the window without a file are **missing**; the run goes on if there are at
most ``max_missing_days`` of them (and records them), else it stops naming them.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable
from zoneinfo import ZoneInfo

DEFAULT_MAX_MISSING_DAYS = 0  # a gap stops the run unless the config allows gaps
# The day cache keeps the entries of days up to this many days before the window's
# first day (a re-run or backfill a week back still reuses them); older ones are pruned.
DEFAULT_CACHE_KEEP_DAYS = 7


class WindowError(ValueError):
    """The window cannot be resolved, or has more missing days than allowed."""


@dataclasses.dataclass(frozen=True)
class Window:
    """The resolved window: ``first``..``last`` inclusive, the days present and missing."""

    first: datetime.date
    last: datetime.date
    present: tuple[datetime.date, ...]
    missing: tuple[datetime.date, ...]

    @property
    def n_days(self) -> int:
        return (self.last - self.first).days + 1

    def describe(self) -> str:
        """``2026-03-16..2026-04-12 (28 days)``."""
        return f"{self.first.isoformat()}..{self.last.isoformat()} ({self.n_days} days)"


def day_end_utc(day: datetime.date, timezone: str) -> datetime.datetime:
    """The instant (UTC) when local ``day`` has ended: the start of the next local day."""
    nxt = day + datetime.timedelta(days=1)
    start = datetime.datetime(nxt.year, nxt.month, nxt.day, tzinfo=ZoneInfo(timezone))
    return start.astimezone(datetime.timezone.utc)


def is_complete(day: datetime.date, timezone: str, now: datetime.datetime) -> bool:
    """True once local ``day`` has fully ended at ``now`` (an aware datetime)."""
    return now >= day_end_utc(day, timezone)


def resolve_window(
    days_present: Iterable[datetime.date],
    window_days: int,
    timezone: str,
    now: datetime.datetime,
    as_of: datetime.date | None = None,
) -> Window:
    """The window of ``window_days`` complete local days (see the module docstring).

    Raises WindowError when ``window_days`` < 1, ``as_of`` has not ended yet, or no
    complete day has a file.
    """
    if window_days < 1:
        raise WindowError(f"window_days must be >= 1, got {window_days}")
    if now.tzinfo is None:
        raise WindowError("now must be an aware datetime")
    found = sorted(set(days_present))
    if as_of is not None:
        if not is_complete(as_of, timezone, now):
            raise WindowError(
                f"as_of {as_of.isoformat()} has not ended yet in {timezone} "
                f"(it ends at {day_end_utc(as_of, timezone).isoformat()})"
            )
        last = as_of
    else:
        complete = [d for d in found if is_complete(d, timezone, now)]
        if not complete:
            raise WindowError(
                f"no complete local day ({timezone}) has a file: the newest file is "
                f"{found[-1].isoformat() if found else 'none'}"
            )
        last = complete[-1]
    first = last - datetime.timedelta(days=window_days - 1)
    present = tuple(d for d in found if first <= d <= last)
    have = set(present)
    missing = tuple(
        d for d in (first + datetime.timedelta(days=i) for i in range(window_days)) if d not in have
    )
    return Window(first=first, last=last, present=present, missing=missing)


def check_missing(window: Window, max_missing_days: int) -> None:
    """Raises WindowError naming the missing days if there are more than allowed."""
    if len(window.missing) > max_missing_days:
        raise WindowError(
            f"window {window.describe()}: {len(window.missing)} day(s) missing "
            f"({', '.join(d.isoformat() for d in window.missing)}), more than "
            f"data.max_missing_days={max_missing_days}"
        )


def parse_date(value: str, what: str, error: type[ValueError] = ValueError) -> datetime.date | None:
    """``'YYYY-MM-DD'`` as a date; '' means none. A bad value raises ``error`` naming ``what``."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as e:
        raise error(f"{what}={value!r} is not a 'YYYY-MM-DD' date") from e


def parse_as_of(value: str) -> datetime.date | None:
    """``'YYYY-MM-DD'`` as a date; '' means none (the newest complete day)."""
    return parse_date(value, "as_of", WindowError)


def summary_line(first: str, last: str, n_days: int, ingested: int, reused: int) -> str:
    """The run summary's window line, e.g.
    ``window: 2026-03-16..2026-04-12 (28 days), ingested 28, reused 0``."""
    return f"window: {first}..{last} ({n_days} days), ingested {ingested}, reused {reused}"
