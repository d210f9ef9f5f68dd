"""Writes plans: a SUMO additional file (``tlLogic`` programs + one ``WAUT``) and plans.csv.

Programs: each signal's own program (``phases.Signal``) re-timed per band, programID
``band-<b>``: every green phase gets its Webster green, every yellow phase ``yellow`` s,
and an all-red of ``all_red`` s follows each yellow: the program's own red phase after
it, else a new one (the yellow's state with ``y`` -> ``r``) before the next green.
Each program carries its ``offset`` (s; ``coordination``: 0 unless a green wave).

Switching: one ``WAUT`` (``id="advise"``) for every signal switches all of them to the
next band's program at the same instants, by SUMO's immediate switch (no transition
procedure). Times are simulation seconds from time 0 = a local midnight:

- ``start=None``: time 0 is Monday 00:00 and the week is taken as 168 equal hours (no DST
  change inside it); the switches of one week are listed and the WAUT repeats them every
  604800 s (``period``).
- ``start`` an aware ``datetime`` of a local midnight in the city's time zone (any day of
  the week: ``simulate``'s time 0 is the local midnight of its start date): each switch
  of ``days`` days from it is placed at its local wall-clock hour, converted through UTC,
  so a week that crosses a DST change switches at the right local times (a switch whose
  local hour does not exist, in the spring-forward gap, happens at the instant after it).
"""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path
from xml.sax.saxutils import quoteattr

from deploy.signal_plans.phases import YELLOW, Signal, is_green
from deploy.signal_plans.webster import PlanSettings, Timing
from transforms import features

WAUT_ID = "advise"
WEEK_SECONDS = 7 * 24 * 3600
CSV_COLUMNS = (
    "signal",
    "band",
    "program_id",
    "days",
    "hours",
    "cycle_s",
    "green_s",
    "phase_approaches",
    "flow_ratios",
    "Y",
    "degree_of_saturation",
    "max_degree_of_saturation",
    "oversaturated",
    "offset_s",
    "design_pcu_per_hour",
)


def program_id(band: int) -> str:
    return f"band-{band}"


def program(signal: Signal, timing: Timing, settings: PlanSettings) -> list[tuple[float, str]]:
    """``(duration, state)`` of each phase of ``signal``'s program re-timed by ``timing``."""
    greens = dict(zip(signal.green_phases, timing.greens, strict=True))
    n = len(signal.states)
    out = []
    for i, state in enumerate(signal.states):
        if i in greens:
            out.append((greens[i], state))
        elif any(c in YELLOW for c in state):
            out.append((settings.yellow, state))
            if settings.all_red > 0 and is_green(signal.states[(i + 1) % n]):
                red = "".join("r" if c in YELLOW else c for c in state)
                out.append((settings.all_red, red))
        elif any(c in YELLOW for c in signal.states[i - 1]) and settings.all_red > 0:
            out.append((settings.all_red, state))  # the program's own all-red
        else:
            out.append((signal.durations[i], state))
    return out


def _seconds(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def switch_times(
    switches: list[tuple[int, int]], start: datetime | None = None, days: int = 7
) -> list[tuple[float, int]]:
    """``(simulation seconds, band)`` of the band ``switches`` ``(cell, band)``; see the
    module doc for ``start`` and ``days``. A switch at time 0 is left out (the start
    program)."""
    if start is None:
        return [(3600.0 * cell, band) for cell, band in switches if cell > 0]
    if start.tzinfo is None:
        raise ValueError("start must be an aware datetime (a local midnight of the city)")
    if (start.hour, start.minute, start.second, start.microsecond) != (0, 0, 0, 0):
        raise ValueError(f"start {start.isoformat()} is not a local midnight")
    zone = start.tzinfo
    out = []
    for day in range(days):
        date = (start + timedelta(days=day)).date()
        for cell, band in switches:
            d, hour = features.all_day_hours()[cell]
            if d != (start.weekday() + day) % 7:
                continue
            local = datetime(date.year, date.month, date.day, hour, tzinfo=zone)
            seconds = local.timestamp() - start.timestamp()
            if seconds > 0:
                out.append((seconds, band))
    return sorted(out)


def write_additional(
    path: Path | str,
    programs: dict[tuple[str, int], list[tuple[float, str]]],
    start_band: int,
    switches: list[tuple[float, int]],
    repeat_weekly: bool,
    offsets: dict[tuple[str, int], float] | None = None,
) -> Path:
    """The additional file: ``programs[(signal, band)]`` phases with ``offsets[(signal,
    band)]`` (default 0), one WAUT switching every signal to ``band-<b>`` at each
    ``switches`` time (s)."""
    offsets = offsets or {}
    path = Path(path)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', "<additional>"]
    for (signal, band), phases in sorted(programs.items()):
        lines.append(
            f'    <tlLogic id={quoteattr(signal)} type="static" '
            f'programID="{program_id(band)}" '
            f'offset="{_seconds(offsets.get((signal, band), 0.0))}">'
        )
        lines += [
            f'        <phase duration="{_seconds(d)}" state="{state}"/>' for d, state in phases
        ]
        lines.append("    </tlLogic>")
    period = f' period="{WEEK_SECONDS}"' if repeat_weekly else ""
    lines.append(
        f'    <WAUT id="{WAUT_ID}" refTime="0" startProg="{program_id(start_band)}"{period}>'
    )
    lines += [
        f'        <wautSwitch time="{_seconds(t)}" to="{program_id(b)}"/>' for t, b in switches
    ]
    lines.append("    </WAUT>")
    for signal in sorted({s for s, _ in programs}):
        lines.append(f'    <wautJunction wautID="{WAUT_ID}" junctionID={quoteattr(signal)}/>')
    lines.append("</additional>")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_csv(path: Path | str, rows: list[dict]) -> Path:
    """plans.csv: one row per (signal, band), ``CSV_COLUMNS``."""
    path = Path(path)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path
