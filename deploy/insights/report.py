"""The report's single HTML page: figures inline (SVG text, base64 PNG), no network.

The only script labels the map's cells: it gives each ``<g id="cell-D-HH">`` of the
matplotlib SVG a ``<title>`` (the browser's hover label) and shows the hovered cell's
nearest neighbours and regime under the map.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass

import numpy as np

from deploy.insights import analysis, figures
from deploy.insights.lineage import Lineage
from deploy.insights.summary import GROUND_TRUTH, Summary
from transforms import features

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1100px;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
.figure svg, .figure img { max-width: 100%; height: auto; }
#hover { min-height: 1.4em; font-size: 0.9em; color: #333; background: #f7f7f7; padding: 4px; }
.note { color: #555; font-size: 0.9em; }
g[id^="cell-"] { cursor: pointer; }
"""

SCRIPT = """
const cells = JSON.parse(document.getElementById('cells').textContent);
const hover = document.getElementById('hover');
for (const [id, info] of Object.entries(cells)) {
  const g = document.getElementById(id);
  if (!g) continue;
  const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
  title.textContent = info.label;
  g.insertBefore(title, g.firstChild);
  g.addEventListener('mouseenter', () => {
    hover.textContent = info.label + ' | regime: ' + info.regime +
      ' | nearest: ' + info.neighbours.join(', ');
  });
}
"""


@dataclass
class Page:
    """What the page shows (built by ``explain``)."""

    title: str
    map_svg: str
    summary: Summary
    lineage: Lineage
    neighbours: list[dict]
    regimes: list[analysis.Regime]
    assignment: np.ndarray
    city_heatmap_png: bytes
    signal_heatmap_png: bytes
    comparison_svg: str = ""
    shift_png: bytes = b""
    approach_png: bytes = b""  # weekly profiles of the shown approaches (per-approach accuracy)


def _esc(value: object) -> str:
    return html.escape(str(value))


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<div class="figure"><img alt="{_esc(alt)}" src="data:image/png;base64,{data}"></div>'


def _table(
    header: list[str], rows: list[list[object]], left: int = 1, text_last: bool = False
) -> str:
    """Columns before ``left`` (and the last, with ``text_last``) are left-aligned text."""

    def cell(tag: str, i: int, v: object) -> str:
        cls = ' class="l"' if i < left or (text_last and i == len(header) - 1) else ""
        text = f"{v:.4g}" if isinstance(v, float) else _esc(v)
        return f"<{tag}{cls}>{text}</{tag}>"

    head = "".join(cell("th", i, h) for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, v) for i, v in enumerate(row)) + "</tr>" for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _cells_json(page: Page) -> str:
    by_cell: dict[int, list[str]] = {}
    for row in page.neighbours:
        by_cell.setdefault(row["cell"], []).append(row["neighbour_label"])
    names = {r.regime: r.name for r in page.regimes}
    info = {
        figures.cell_id(d, h): {
            "label": features.day_hour_label(d, h),
            "regime": names[int(page.assignment[i])],
            "neighbours": by_cell.get(i, [])[:3],
        }
        for i, (d, h) in enumerate(features.all_day_hours())
    }
    # '</' cannot end the script element early: JSON escapes it.
    return json.dumps(info).replace("</", "<\\/")


def _lineage_section(page: Page) -> str:
    rec = page.lineage
    rows = [
        ["city", rec.city],
        ["version", rec.version],
        ["model dir", rec.model_dir],
        ["time zone", rec.timezone],
        ["data span", rec.data_span],
        ["warm start donor", rec.donor],
        ["warm start mode", rec.mode or "-"],
    ]
    parts = ["<h2>Lineage</h2>", _table(["", ""], rows, left=2)]
    parts.append("<h2>Evaluation metrics by slice</h2>")
    if rec.metrics_by_slice:
        names = sorted({k for _, m in rec.metrics_by_slice for k in m})
        rows = [[s, *(m.get(n, "") for n in names)] for s, m in rec.metrics_by_slice]
        parts.append(_table(["slice", *names], rows))
    else:
        parts.append('<p class="note">No evaluation record found (no ML Metadata beside it).</p>')
    return "".join(parts)


def _regimes_section(page: Page) -> str:
    rows = [
        [
            r.regime,
            r.name,
            len(r.cells),
            round(r.mean_vehicles_per_hour, 1),
            *(f"{r.type_shares[t]:.1%}" for t in features.VEHICLE_TYPES),
            ", ".join(r.labels[:8]) + (" ..." if len(r.cells) > 8 else ""),
        ]
        for r in page.regimes
    ]
    header = ["regime", "name", "cells", "veh/h (city)", *features.VEHICLE_TYPES, "members"]
    return (
        "<h2>Traffic regimes</h2><p class='note'>k-means clusters of the 168 cells in the "
        "embedding, quietest first, with the model's predicted city-wide vehicles per hour "
        "and vehicle-type mix.</p>" + _table(header, rows, left=2, text_last=True)
    )


def _neighbours_section(page: Page) -> str:
    by_cell: dict[int, list[str]] = {}
    for row in page.neighbours:
        by_cell.setdefault(row["cell"], []).append(
            f"{row['neighbour_label']} ({row['distance']:.3f})"
        )
    rows = [
        [features.day_hour_label(d, h), "; ".join(by_cell[i])]
        for i, (d, h) in enumerate(features.all_day_hours())
    ]
    return (
        "<h2>Similar times</h2><p class='note'>Each cell's nearest cells in the embedding "
        "(Euclidean distance). Also in neighbours.csv.</p><details><summary>all 168 cells"
        "</summary>"
        + _table(["cell", "nearest neighbours (distance)"], rows, left=2)
        + "</details>"
    )


def _percent(value: float | None) -> str:
    return "no cell that busy" if value is None else f"{value:.1%}"


def _accuracy_section(summary: Summary) -> str:
    truth = summary.ground_truth
    if not truth:
        return ""
    rows = [[t, v.cells, _percent(v.median_relative_error)] for t, v in truth.per_type.items()]
    return (
        "<h2>Predictions against the generator's ground truth</h2><p class='note'>Predicted "
        "city-wide vehicles per hour (summed over every approach seen in training) against "
        f"{_esc(truth.file)}; median relative error over the cells with at least "
        f"{truth.min_true_vehicles_per_hour:g} true vehicles per hour.</p>"
        + _table(["type", "cells", "median relative error"], rows)
    )


def _figure(value: float | None, percent: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.1%}" if percent else f"{value:.3f}"


def _approach_section(page: Page) -> str:
    acc = page.summary.approach_accuracy
    if not acc:
        return ""
    head = f"<h2>Per approach, against the {_esc(acc.reference)}</h2>"
    if acc.note is not None:
        return head + f"<p class='note'>{_esc(acc.note)}</p>"
    by_truth = acc.reference == GROUND_TRUTH
    keys = (
        [("rate_error", True), ("rate_error_busy", True), ("nll_excess", False)]
        if by_truth
        else [("nll", False), ("nll_busy", False)]
    )
    names = {
        "rate_error": "rate error",
        "rate_error_busy": "rate error (busy)",
        "nll_excess": "NLL excess over truth",
        "nll": "Poisson NLL / cell",
        "nll_busy": "NLL / busy cell",
    }
    rows = [[name, *(_figure(s[k], p) for k, p in keys)] for name, s in acc.scores.items()]
    shown = [
        [
            f"{r.intersection_id} {r.direction}",
            r.why,
            round(r.total, 1),
            round(r.abs_error, 1),
            _figure(r.rate_error, True),
        ]
        for r in acc.shown
    ]
    cells = next(iter(acc.scores.values()))
    return (
        head + f"<p class='note'>{_esc(acc.what)} {cells['cells']} cells (approach x vehicle "
        f"type x hour), {cells['busy_cells']} busy (at least {acc.busy_vehicles_per_hour:g} "
        "vehicles per hour). Rate error: sum |predicted - true| / sum true; NLL: Poisson "
        "negative log-likelihood per cell (definitions: deploy/insights/accuracy.py).</p>"
        + _table(["predictor", *(names[k] for k, _ in keys)], rows)
        + "<p class='note'>Weekly profiles (all vehicle types) of the busiest and the "
        "worst-predicted approaches (largest absolute error of the model).</p>"
        + _table(["approach", "shown as", "vehicles", "model abs. error", "rate error"], shown, 2)
        + _img(page.approach_png, "per-approach weekly profiles")
    )


def _comparison_section(page: Page) -> str:
    comp = page.summary.comparison
    if not comp:
        return ""
    shifts = ", ".join(f"{s.label} ({s.shift:.3f})" for s in comp.largest_shifts)
    return (
        f"<h2>Compared with {_esc(comp.with_city)} ({_esc(comp.with_model)})</h2>"
        f"<p>Rank correlation (Spearman) of the two cities' pairwise cell distances: "
        f"<b>{comp.cross_city_distance_spearman:.3f}</b>. Orthogonal Procrustes "
        f"disparity (both maps centred and scaled to unit size): "
        f"{comp.procrustes_disparity:.3f}; mean per-cell shift "
        f"{comp.mean_cell_shift:.3f}; largest: {_esc(shifts)}.</p>"
        f'<div class="figure">{page.comparison_svg}</div>' + _img(page.shift_png, "per-cell shift")
    )


def _plans_section(summary: Summary) -> str:
    plans = summary.signal_plans
    if not plans:
        return ""
    return (
        "<h2>Signal plans</h2><p class='note'>Time-of-day fixed-time plans from these "
        f"predictions (<code>advise</code>) for the {plans.signals} signals of "
        f"{_esc(plans.network)}: {plans.bands} plan bands, coordination "
        f"{_esc(plans.coordination)}. Per signal, the week's plan timeline and the "
        f'predicted flows behind it: <a href="{_esc(plans.page)}">'
        f"{_esc(plans.page)}</a> (plans.csv and plans.add.xml beside it).</p>"
    )


def render(page: Page) -> str:
    """The whole page as one HTML string."""
    s = page.summary
    explained = s.map_explained_variance
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_esc(page.title)}</title>
<style>{STYLE}</style></head><body>
<h1>{_esc(page.title)}</h1>
<p class="note">Model {_esc(page.lineage.city)} version {_esc(page.lineage.version)} (its
folder and lineage at the end); {s.embedding_dim}-dimensional day x hour
embedding; {s.approaches} approaches (intersection x direction) seen in training.</p>
<h2>The day x hour map</h2>
<p class="note">Each point is one local day-hour cell (hover for its label); each day's 24 hours
are joined in order; weekdays are circles (blues, Friday green), the weekend squares (Saturday
orange, Sunday red). Close points are times the model treats alike. Axes explain
{explained[0]:.0%} and {explained[1]:.0%} of the variance.</p>
<div class="figure" id="map">{page.map_svg}</div>
<div id="hover">Hover a point.</div>
{_regimes_section(page)}
{_neighbours_section(page)}
<h2>Predicted traffic</h2>
<p class="note">The model's predicted vehicles per hour by local day (rows) and hour
(columns), per vehicle type and in total: city-wide (summed over every approach), then at
signal {_esc(s.signal)} (all its directions).</p>
{_img(page.city_heatmap_png, "city-wide heatmaps")}
{_img(page.signal_heatmap_png, "signal heatmaps")}
{_accuracy_section(s)}
{_approach_section(page)}
{_plans_section(s)}
{_lineage_section(page)}
{_comparison_section(page)}
<script type="application/json" id="cells">{_cells_json(page)}</script>
<script>{SCRIPT}</script>
</body></html>
"""
