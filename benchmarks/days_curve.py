"""The cold-start curve (eval loss vs days of training data) and what a warm start is worth.

``days_worth`` reads the cold curve piecewise linearly in log(days) and returns the
number of cold-start days whose loss equals a warm start's loss; ``plot_curve`` draws the
curve and the warm-start points as a PNG (matplotlib's Agg backend, no display).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DaysWorth:
    """What a loss is worth on the cold curve: ``days`` when inside its range, else the
    side it falls off (``below`` = worse than the fewest cold days, ``above`` = better
    than the most)."""

    days: float | None
    below: int | None = None
    above: int | None = None

    def describe(self) -> str:
        if self.days is not None:
            return f"{self.days:.1f}"
        if self.below is not None:
            return f"less than {self.below}"
        return f"more than {self.above}"


def days_worth(cold: Mapping[int, float], loss: float) -> DaysWorth:
    """Days of cold-start data whose eval loss equals ``loss``.

    The cold curve is interpolated linearly in log(days) between measured day counts;
    the first crossing (fewest days) counts when the curve is not monotonic. Outside the
    curve's range the answer is "less than" its fewest or "more than" its most days.
    """
    if not cold:
        raise ValueError("the cold curve has no points")
    if not all(math.isfinite(v) for v in (*cold.values(), loss)):
        raise ValueError(f"non-finite loss in cold curve {dict(cold)} or warm loss {loss}")
    points = sorted(cold.items())
    first_days, first_loss = points[0]
    if loss > first_loss:
        return DaysWorth(None, below=first_days)
    if loss == first_loss:
        return DaysWorth(float(first_days))
    for (d0, l0), (d1, l1) in itertools.pairwise(points):
        if l1 <= loss < l0:
            t = (l0 - loss) / (l0 - l1)
            return DaysWorth(math.exp(math.log(d0) + t * (math.log(d1) - math.log(d0))))
    return DaysWorth(None, above=points[-1][0])


def plot_curve(
    path: Path,
    cold: Mapping[int, float],
    warm: Mapping[str, Mapping[int, float]],
    title: str,
    seed_points: Mapping[str, Mapping[int, list[float]]] | None = None,
) -> Path:
    """Writes the cold curve and each warm mode's points (loss vs days, log x) as a PNG.

    ``seed_points`` (optional): the per-seed losses behind the means, drawn faintly.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    styles = {"cold": ("tab:gray", "o"), "frozen": ("tab:blue", "s"), "fine_tune": ("tab:red", "^")}
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    series = {"cold": cold, **warm}
    for name, curve in series.items():
        color, marker = styles.get(name, ("tab:green", "D"))
        days = sorted(curve)
        ax.plot(
            days,
            [curve[d] for d in days],
            marker=marker,
            color=color,
            linestyle="-" if name == "cold" else "none",
            label=f"{name} start" if name == "cold" else f"warm, {name}",
        )
        for d in days:
            for value in (seed_points or {}).get(name, {}).get(d, []):
                ax.plot(d, value, marker=marker, color=color, alpha=0.3, linestyle="none")
        if name != "cold" and min(days) in curve:
            worth = days_worth(cold, curve[min(days)])
            ax.axhline(curve[min(days)], color=color, linestyle=":", linewidth=1)
            if worth.days is not None:
                ax.axvline(worth.days, color=color, linestyle=":", linewidth=1)
                ax.annotate(
                    f"{name} on {min(days)} d = {worth.days:.1f} cold days",
                    (worth.days, curve[min(days)]),
                    textcoords="offset points",
                    xytext=(6, 6),
                    color=color,
                    fontsize=8,
                )
    ax.set_xscale("log")
    ticks = sorted(set().union(*[set(c) for c in series.values()]))
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.minorticks_off()
    ax.set_xlabel("days of target-city training data")
    ax.set_ylabel("eval loss per example (lower is better)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
