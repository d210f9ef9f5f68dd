"""The load a simulated demand puts on its network: flow ratios per hour band, and a plot.

``python -m deploy.datasets.simulation.report [--city london] [--grid 5x5] [--png PATH]`` prints
the peak critical flow ratios per hour band (arterial phase, cross-street phase, Y) of
the default demand and optionally plots the busiest signal's week.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from deploy.datasets.simulation import demand, network
from deploy.datasets.synthetic import cities

# Local hour bands (end exclusive) used to report load and results.
HOUR_BANDS: dict[str, tuple[int, int]] = {
    "night 00-06": (0, 6),
    "am peak 06-10": (6, 10),
    "midday 10-15": (10, 15),
    "pm peak 15-19": (15, 19),
    "evening 19-24": (19, 24),
}
DAY_GROUPS: dict[str, tuple[int, ...]] = {"Mon-Fri": (0, 1, 2, 3, 4), "Sat": (5,), "Sun": (6,)}


def band_peaks(ratios: demand.FlowRatios) -> list[dict]:
    """Per day group and hour band, the highest y_major, y_minor and Y over signals and
    hours (each maximised on its own)."""
    rows = []
    for group, days in DAY_GROUPS.items():
        for band, (lo, hi) in HOUR_BANDS.items():
            cell = np.s_[:, list(days), lo:hi]
            rows.append(
                {
                    "days": group,
                    "band": band,
                    "y_major": float(ratios.y_major[cell].max()),
                    "y_minor": float(ratios.y_minor[cell].max()),
                    "Y": float(ratios.total[cell].max()),
                }
            )
    return rows


def plot(ratios: demand.FlowRatios, path: str, title: str) -> None:
    """The busiest signal's y_major, y_minor and Y for Monday, Saturday and Sunday."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    site = int(ratios.total.max(axis=(1, 2)).argmax())
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    for ax, (name, day) in zip(axes, (("Monday", 0), ("Saturday", 5), ("Sunday", 6)), strict=True):
        hours = np.arange(24) + 0.5
        ax.plot(hours, ratios.y_major[site, day], label="arterial phase (E-W)")
        ax.plot(hours, ratios.y_minor[site, day], label="cross-street phase (N-S)")
        ax.plot(hours, ratios.total[site, day], "k--", label="Y (sum)")
        ax.set_title(name)
        ax.set_xlabel("local hour")
        ax.set_xticks(range(0, 25, 6))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("critical flow ratio")
    axes[0].legend(fontsize=8, loc="upper left")
    fig.suptitle(f"{title}: signal {ratios.intersections[site]}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the band table (and writes the plot with ``--png``)."""
    import tempfile
    from pathlib import Path

    parser = argparse.ArgumentParser(prog="python -m deploy.datasets.simulation.report")
    parser.add_argument("--city", default="london")
    parser.add_argument("--grid", default="5x5")
    parser.add_argument("--peak-y", type=float, default=demand.DemandParams().peak_y)
    parser.add_argument("--png")
    args = parser.parse_args(argv)
    rows, cols = network.parse_grid(args.grid)
    spec = network.GridSpec(rows=rows, cols=cols)
    profile = cities.get_city(args.city)
    with tempfile.TemporaryDirectory() as work:
        ids = cities.intersection_ids(profile, rows * cols)
        net = network.read_network(network.build_grid(spec, ids, Path(work) / "g.net.xml"))
        flows = demand.grid_demand(profile, spec, net, demand.DemandParams(peak_y=args.peak_y))
    ratios = demand.flow_ratios(flows, net)
    per_day = flows.rates.sum(axis=(0, 1, 3))  # (7,) vehicles inserted per day of week
    print(f"{args.city} {args.grid}: vehicles/day Mon-Sun {np.round(per_day).astype(int)}")
    print(f"{'days':8} {'band':15} {'y_major':>8} {'y_minor':>8} {'Y':>6}")
    for row in band_peaks(ratios):
        print(
            f"{row['days']:8} {row['band']:15} {row['y_major']:8.2f} {row['y_minor']:8.2f} "
            f"{row['Y']:6.2f}"
        )
    if args.png:
        plot(ratios, args.png, f"{args.city} {args.grid} grid, peak Y {args.peak_y}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
