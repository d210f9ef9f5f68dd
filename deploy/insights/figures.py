"""Matplotlib drawings of the report: the day x hour map, heatmaps, the city comparison.

Figures are built on ``matplotlib.figure.Figure`` (no pyplot, no global state) and
returned as SVG text (the map: every cell is a ``<g id="cell-<day>-<hour>">`` element
the page labels on hover) or PNG bytes. SVG text stays text (``svg.fonttype: none``).
"""

from __future__ import annotations

import io

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from transforms import features

WEEKDAY_COLOURS = ("#08306b", "#2171b5", "#4292c6", "#6baed6", "#41ab5d")  # blues, Fri green
WEEKEND_COLOURS = ("#e6550d", "#a50f15")  # Sat orange, Sun red
DAY_COLOURS = WEEKDAY_COLOURS + WEEKEND_COLOURS
LABELLED_HOURS = (0, 8, 13, 17)  # written on the map for every day; all 168 on hover
SVG_RC = {"svg.fonttype": "none", "svg.hashsalt": "traffic-embeddings"}


def cell_id(day: int, hour: int) -> str:
    """The SVG element id of a cell, e.g. ``cell-1-08`` for Tuesday 08:00."""
    return f"cell-{day}-{hour:02d}"


def svg_text(fig: Figure) -> str:
    """The figure as an SVG document (no XML prolog: it is inlined into HTML)."""
    buffer = io.StringIO()
    with matplotlib.rc_context(SVG_RC):
        fig.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _draw_week(ax, points: np.ndarray, *, alpha: float = 1.0, ids: bool = True, text=True) -> None:
    cells = features.all_day_hours()
    for day in range(features.DAYS_PER_WEEK):
        rows = [i for i, (d, _) in enumerate(cells) if d == day]
        xy = points[rows]
        colour = DAY_COLOURS[day]
        ax.plot(xy[:, 0], xy[:, 1], "-", color=colour, lw=1.0, alpha=0.55 * alpha, zorder=1)
        for i in rows:
            d, h = cells[i]
            marker = "s" if d >= 5 else "o"
            (point,) = ax.plot(
                points[i, 0], points[i, 1], marker, color=colour, ms=5, alpha=alpha, zorder=2
            )
            if ids:
                point.set_gid(cell_id(d, h))
            if text and h in LABELLED_HOURS:
                ax.annotate(
                    features.day_hour_label(d, h),
                    (points[i, 0], points[i, 1]),
                    xytext=(3, 3),
                    textcoords="offset points",
                    fontsize=6,
                    color=colour,
                    alpha=alpha,
                )


def _day_legend(ax) -> None:
    handles = [
        Line2D([], [], color=c, marker="s" if d >= 5 else "o", lw=1, label=features.DAY_NAMES[d])
        for d, c in enumerate(DAY_COLOURS)
    ]
    ax.legend(handles=handles, fontsize=7, loc="best", framealpha=0.8)


def embedding_map(points: np.ndarray, title: str, axis_note: str = "") -> Figure:
    """The 168 cells in the plane, coloured by day, each day's hours joined in order."""
    fig = Figure(figsize=(8.5, 7))
    ax = fig.add_subplot()
    _draw_week(ax, points)
    _day_legend(ax)
    ax.set_title(title, fontsize=11)
    ax.set_xlabel(f"dimension 1 {axis_note}".strip(), fontsize=8)
    ax.set_ylabel("dimension 2", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.2)
    return fig


def heatmaps(per_hour: np.ndarray, title: str) -> Figure:
    """Vehicles per hour by day (rows) x hour (columns): one panel per type, then total.

    Types predicted as 0 everywhere (not seen in training, e.g. cars at a bicycle
    counter) get no panel."""
    kept = [v for v in range(per_hour.shape[1]) if per_hour[:, v].any()]
    grids = [per_hour[:, v] for v in kept] + [per_hour.sum(axis=1)]
    names = [*(features.VEHICLE_TYPES[v] for v in kept), "total"]
    fig = Figure(figsize=(11, 7.5))
    fig.suptitle(title, fontsize=11)
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    for ax, name, values in zip(axes, names, grids, strict=True):
        grid = values.reshape(features.DAYS_PER_WEEK, features.HOURS_PER_DAY)
        image = ax.imshow(grid, aspect="auto", cmap="viridis")
        ax.set_yticks(range(features.DAYS_PER_WEEK), features.DAY_NAMES, fontsize=6)
        ax.set_ylabel(name, fontsize=8)
        fig.colorbar(image, ax=ax, pad=0.01).ax.tick_params(labelsize=6)
    axes[-1].set_xticks(range(features.HOURS_PER_DAY), [f"{h:02d}" for h in range(24)], fontsize=6)
    axes[-1].set_xlabel("local hour (vehicles per hour)", fontsize=8)
    return fig


def comparison(reference: np.ndarray, aligned: np.ndarray, names: tuple[str, str]) -> Figure:
    """Both cities' maps after Procrustes alignment, each cell's shift drawn as a line."""
    fig = Figure(figsize=(8.5, 7))
    ax = fig.add_subplot()
    for a, b in zip(reference, aligned, strict=True):
        ax.plot([a[0], b[0]], [a[1], b[1]], "-", color="#999999", lw=0.6, zorder=0)
    _draw_week(ax, reference, ids=False)
    _draw_week(ax, aligned, alpha=0.35, ids=False, text=False)
    _day_legend(ax)
    ax.set_title(
        f"{names[0]} (solid) and {names[1]} (faint), aligned; grey: per-cell shift", fontsize=10
    )
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.2)
    return fig


def shift_heatmap(shift: np.ndarray, title: str) -> Figure:
    """Per-cell shift after alignment, day (rows) x hour (columns)."""
    fig = Figure(figsize=(11, 2.6))
    ax = fig.add_subplot()
    grid = shift.reshape(features.DAYS_PER_WEEK, features.HOURS_PER_DAY)
    image = ax.imshow(grid, aspect="auto", cmap="magma")
    ax.set_yticks(range(features.DAYS_PER_WEEK), features.DAY_NAMES, fontsize=7)
    ax.set_xticks(range(features.HOURS_PER_DAY), [f"{h:02d}" for h in range(24)], fontsize=7)
    ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=ax, pad=0.01).ax.tick_params(labelsize=6)
    return fig


PROFILE_STYLES = {  # label -> (colour, line style); other labels use matplotlib's cycle
    "true": ("#000000", "-"),
    "observed": ("#000000", "-"),
    "model": ("#2171b5", "-"),
    "historical average": ("#e6550d", "--"),
}


def approach_profiles(panels: list[tuple[str, dict[str, np.ndarray]]], title: str) -> Figure:
    """Small multiples: one panel per approach, its weekly profile (168 local hours,
    Monday 00:00 first, vehicles per hour) per series (e.g. true, model)."""
    fig = Figure(figsize=(11, 1.9 * len(panels) + 0.6))
    fig.suptitle(title, fontsize=11)
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    hours = np.arange(features.DAY_HOUR_CELLS)
    for ax, (name, series) in zip(axes, panels, strict=True):
        for label, values in series.items():
            colour, style = PROFILE_STYLES.get(label, (None, "-"))
            ax.plot(hours, values, style, color=colour, lw=1.0, label=label)
        ax.set_title(name, fontsize=8, loc="left")
        ax.tick_params(labelsize=6)
        ax.grid(alpha=0.2)
        ax.set_ylabel("veh/h", fontsize=7)
    axes[0].legend(fontsize=7, loc="upper right", ncol=len(panels[0][1]))
    starts = np.arange(features.DAYS_PER_WEEK) * features.HOURS_PER_DAY
    axes[-1].set_xticks(starts, features.DAY_NAMES, fontsize=7)
    axes[-1].set_xlabel("local day and hour (each day from 00:00)", fontsize=8)
    return fig
