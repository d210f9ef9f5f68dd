"""``plans.html``: the advised plans as one self-contained page (inline PNGs, no network).

Per signal: the week's plan timeline (which band runs at each local day-hour) above the
predicted flows behind it (pcu/h per approach over the week, on the band colours), then
its plans table.
"""

from __future__ import annotations

import html

import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from deploy.insights.figures import png_bytes
from deploy.insights.report import STYLE, _img, _table
from deploy.signal_plans.api import SignalPlans
from transforms import features

BAND_COLOURS = ("#deebf7", "#fee391", "#a1d99b", "#fdae6b", "#bcbddc", "#fc9272", "#9ecae1")
APPROACH_COLOURS = {"N": "#08519c", "S": "#6baed6", "E": "#a50f15", "W": "#fb6a4a"}


def _band_colours(count: int) -> list[str]:
    return [BAND_COLOURS[b % len(BAND_COLOURS)] for b in range(count)]


def signal_figure(plans: SignalPlans, intersection: str) -> Figure:
    """The signal's week: band timeline (7 x 24) and per-approach predicted pcu/h."""
    signal = next(s for s in plans.signals if s.intersection == intersection)
    first = sum(len(s.directions) for s in plans.signals[: plans.signals.index(signal)])
    pcu = plans.pcu[first : first + len(signal.directions)]
    bands = plans.bands
    colours = _band_colours(bands.count)
    fig = Figure(figsize=(10, 5.2))
    top, bottom = fig.subplots(2, 1, gridspec_kw={"height_ratios": [1, 1.3]})
    grid = bands.assignment.reshape(features.DAYS_PER_WEEK, features.HOURS_PER_DAY)
    top.imshow(grid, cmap=ListedColormap(colours), vmin=-0.5, vmax=bands.count - 0.5, aspect="auto")
    for d in range(features.DAYS_PER_WEEK):
        for h in range(features.HOURS_PER_DAY):
            top.text(h, d, str(grid[d, h]), ha="center", va="center", fontsize=7)
    top.set_yticks(range(7), features.DAY_NAMES)
    top.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    top.set_title(f"{intersection}: plan band by local day and hour", fontsize=10)
    hours = np.arange(features.DAY_HOUR_CELLS)
    for cell in range(features.DAY_HOUR_CELLS):
        bottom.axvspan(cell, cell + 1, color=colours[bands.assignment[cell]], lw=0)
    for a, direction in enumerate(signal.directions):
        colour = APPROACH_COLOURS.get(direction, "#333333")
        bottom.step(hours, pcu[a], where="post", color=colour, lw=1.2, label=direction)
    bottom.set_xlim(0, features.DAY_HOUR_CELLS)
    bottom.set_xticks(range(0, 168, 24), features.DAY_NAMES)
    bottom.set_ylabel("predicted pcu/h")
    bottom.legend(loc="upper right", fontsize=8, ncol=len(signal.directions))
    bottom.set_title("predicted flow per approach (background: the band in force)", fontsize=10)
    fig.tight_layout()
    return fig


def render(plans: SignalPlans, title: str, note: str) -> str:
    """The whole page as one HTML string."""
    esc = html.escape
    load = plans.load()
    band_rows = []
    for b in range(plans.bands.count):
        days, hours = plans.bands.describe(b)
        over = [
            s.intersection for s in plans.signals if plans.timings[s.intersection, b].oversaturated
        ]
        band_rows.append([f"band-{b}", days, hours, round(load[b], 3), ", ".join(over) or "none"])
    sections = []
    columns = ["band", "cycle_s", "green_s", "phase_approaches", "Y", "degree_of_saturation"]
    by_signal: dict[str, list[list[object]]] = {}
    for row in plans.rows():
        flag = " (oversaturated)" if row["oversaturated"] else ""
        by_signal.setdefault(row["signal"], []).append(
            [f"band-{row['band']}{flag}", *(row[c] for c in columns[1:])]
        )
    for s in plans.signals:
        png = png_bytes(signal_figure(plans, s.intersection), dpi=90)
        sections.append(
            f"<h2>Signal {esc(s.intersection)}</h2>"
            + _img(png, f"{s.intersection} plan timeline and predicted flows")
            + _table(columns, by_signal[s.intersection], left=1)
        )
    unrated = ", ".join(f"{i} {d}" for i, d in plans.unrated)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>
<style>{STYLE}</style></head><body>
<h1>{esc(title)}</h1>
<p class="note">{esc(note)}</p>
<h2>Plan bands</h2>
<p class="note">Every signal switches plans at the same local times. Y: the largest sum of
critical flow ratios over the signals (the band's load); oversaturated: Y &ge; 1 or a
phase's degree of saturation above {plans.settings.max_saturation:g}.
{("Approaches without predictions (timed with no flow): " + esc(unrated)) if unrated else ""}
</p>
{_table(["band", "days", "hours", "Y", "oversaturated at"], band_rows, left=3, text_last=True)}
{"".join(sections)}
</body></html>
"""
