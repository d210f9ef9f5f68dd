"""The closed loop: simulate, learn, advise signal plans, and prove them in SUMO.

1. ``simulate`` a training period on a signalised grid (SUMO's actuated control, the
   city's tidal demand, ``deploy.datasets.simulation``), Monday first.
2. ``run`` the pipeline on the stop-line detector files (the city's config, a time split
   with the period's last day for eval) and take the model it trained.
3. ``advise``: time-of-day Webster plans from the model's predicted vehicles per hour of
   every approach and type (``deploy.signal_plans.api.plans_from_rates``).
4. Simulate held-out days of a later week (the same demand, another seed: other arrivals)
   under each control, every control on the same arrivals:

   - ``default``: the network's own static program (netconvert's 90 s, equal splits);
   - ``best fixed``: one all-day Webster plan for the whole week from the **true** rates,
     timed for the week's mean flow and for its busiest hour, uncoordinated, and for its
     busiest hour with the advised plans' coordination; the best of these on the held-out
     days is kept (which favours the baseline);
   - ``advised``: the time-of-day plans from the model (``--coordination``: none, a
     common cycle, or a green wave; ``deploy.signal_plans.coordination``);
   - ``oracle``: plans computed the same way, on the advised bands, from the true rates;
   - ``actuated``: SUMO's gap-actuated control on the network's phases.

Reported per control, overall and per local hour band (``deploy.datasets.simulation.report``):
mean time loss, waiting time and departure delay per vehicle, vehicles and teleports,
with the load (peak critical flow ratio Y) of each band beside it; a table, a plot
(``--plot``) and, last, one machine-readable line::

    RESULT advised_vs_best_fixed=-0.31 advised_vs_actuated=+0.18 advised_vs_oracle=+0.03 teleports=0

(relative differences in mean time loss per vehicle; teleports of the advised run).

    python -m benchmarks.bench_signal_plans --work /tmp/signal-plans          # 5x5 grid
    python -m benchmarks.bench_signal_plans --quick --work /tmp/signal-plans-quick
    python -m benchmarks.bench_signal_plans --heldout-days 0,5 --plot plans.png
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

from benchmarks import warm_start_runs
from deploy.datasets.simulation import demand as demand_mod
from deploy.datasets.simulation import network, report
from deploy.datasets.simulation import run as sim
from deploy.datasets.simulation.simulate import simulate
from deploy.datasets.synthetic import cities, sampling
from deploy.insights import model_files, predictions
from deploy.signal_plans import api as plans_api
from deploy.signal_plans import coordination as coord
from transforms import features, keras_mode

DEFAULT = "default"
BEST_FIXED = "best fixed"
ADVISED = "advised"
ORACLE = "oracle"
ACTUATED = "actuated"
CONTROLS = (DEFAULT, BEST_FIXED, ADVISED, ORACLE, ACTUATED)
TRAIN_START = date(2026, 3, 16)  # a Monday
HELDOUT_START = date(2026, 3, 30)  # the Monday two weeks later (after London's DST change)
DRAIN_S = 900  # simulated past a held-out span so that its last vehicles finish
HELDOUT_SEED = 9001
# What the advised and oracle plans are timed for: each band's busiest hour, as every
# measurement in docs/advise.md since the Monday-only run.
DESIGN_HOUR = plans_api.PEAK


@dataclass(frozen=True)
class Setup:
    """What one benchmark run simulates and trains."""

    city: str
    grid: network.GridSpec
    train_days: int
    heldout_days: tuple[int, ...]  # days of the held-out week, 0 = Monday
    hours: tuple[int, int]  # local hours [first, last) of each held-out day
    train_steps: int | None
    max_plans_per_day: int
    workers: int
    design_hour: str = DESIGN_HOUR
    coordination: str = coord.DEFAULT  # of the advised and oracle plans (and a fixed one)


def quick_setup() -> Setup:
    """A 2x2 grid, two training days, the Monday morning peak held out: minutes, for CI."""
    return Setup("london", network.GridSpec(rows=2, cols=2), 2, (0,), (6, 10), 600, 4, 2)


def _cells(tz: str, start: date, days: int) -> sampling.HourCells:
    cells = sampling.local_hour_cells(tz, start, days)
    if len(cells.hour) != 24 * days:
        raise ValueError(f"{start} + {days} days crosses a DST change; pick another week")
    return cells


def true_week(flows: demand_mod.Demand, net: network.Network) -> np.ndarray:
    """[approaches, 168, types] expected vehicles/h from the routes (the truth)."""
    rates = demand_mod.approach_rates(flows, net)  # (A, V, 7, 24)
    return rates.transpose(0, 2, 3, 1).reshape(len(net.approaches), features.DAY_HOUR_CELLS, -1)


def sumo_control(control: str) -> str:
    """``sim.run``'s control of a benchmark control: actuated, or static programs."""
    return ACTUATED if control == ACTUATED else "static"


def run_key(
    day: int, setup: Setup, mode: str, routes: Path, additional: list[Path]
) -> tuple[float, float, int, str]:
    """``(begin, end, seed, key)`` of one held-out day-run: the key hashes everything SUMO
    reads or is told (span, seed, static or actuated, routes and programs), never the
    control's name, so two controls with byte-identical programs share one run."""
    first, last = setup.hours
    begin = 3600 * (24 * day + first)
    end = 3600 * (24 * day + last) + DRAIN_S
    seed = HELDOUT_SEED + day
    digest = hashlib.sha256(f"{begin} {end} {seed} {mode}".encode())
    for path in (routes, *additional):
        digest.update(path.read_bytes())
    return begin, end, seed, digest.hexdigest()


def _heldout_run(
    control: str,
    day: int,
    setup: Setup,
    net: network.Network,
    routes: Path,
    additional: list[Path],
    work: Path,
) -> sim.RunResult:
    """One held-out day under one control. Runs are stored in ``work`` by their inputs
    (:func:`run_key`), not by control: a run with the same inputs, under any control name
    or ``--coordination``, is read back instead of simulated again, and another
    coordination's plans never overwrite it."""
    mode = sumo_control(control)
    begin, end, seed, key = run_key(day, setup, mode, routes, additional)
    out = work / f"day{day}-{key[:16]}"
    stamp = out / "inputs.sha256"
    if stamp.is_file() and stamp.read_text() == key:
        return sim.read_result(out, float(end - begin))
    result = sim.run(
        net.path, routes, begin=begin, end=end, additional_files=additional, out_dir=out,
        seed=seed, control=mode,
    )  # fmt: skip
    stamp.write_text(key)
    return result


@dataclass(frozen=True)
class Outcome:
    """One control's vehicles over the held-out days."""

    time_loss: np.ndarray
    waiting: np.ndarray
    depart_delay: np.ndarray
    local_hour: np.ndarray
    day: np.ndarray
    teleports: int

    def mean(self, values: np.ndarray, mask: np.ndarray | None = None) -> float:
        chosen = values if mask is None else values[mask]
        return float(chosen.mean()) if chosen.size else math.nan


def _combine(results: dict[int, sim.RunResult], setup: Setup) -> Outcome:
    """Vehicles that departed inside the held-out hours (not the drain), of every day."""
    parts = []
    for day, result in sorted(results.items()):
        hour = np.floor(result.depart_s / 3600).astype(int) - 24 * day
        keep = (hour >= setup.hours[0]) & (hour < setup.hours[1])
        parts.append((result, hour, keep, day))
    cat = np.concatenate
    return Outcome(
        time_loss=cat([r.time_loss_s[k] for r, _, k, _ in parts]),
        waiting=cat([r.waiting_s[k] for r, _, k, _ in parts]),
        depart_delay=cat([r.depart_delay_s[k] for r, _, k, _ in parts]),
        local_hour=cat([h[k] for _, h, k, _ in parts]),
        day=cat([np.full(int(k.sum()), d) for _, _, k, d in parts]),
        teleports=sum(r.teleports for r, _, _, _ in parts),
    )


def bands_of(outcome: Outcome) -> dict[str, np.ndarray]:
    """Masks of the reported bands (day group x hour band) present in ``outcome``."""
    out = {}
    for group, days in report.DAY_GROUPS.items():
        for band, (lo, hi) in report.HOUR_BANDS.items():
            mask = (
                np.isin(outcome.day, days) & (outcome.local_hour >= lo) & (outcome.local_hour < hi)
            )
            if mask.any():
                out[f"{group} {band}"] = mask
    return out


def band_load(ratios: demand_mod.FlowRatios, name: str) -> float:
    """Peak Y over signals and hours of a reported band."""
    group, band = name.split(" ", 1)
    lo, hi = report.HOUR_BANDS[band]
    return float(ratios.total[:, list(report.DAY_GROUPS[group]), lo:hi].max())


def relative(a: float, b: float) -> float:
    return a / b - 1.0


def run_benchmark(
    setup: Setup, work: Path, model: Path | None = None
) -> tuple[dict[str, Outcome], dict]:
    """Runs the loop; returns each control's outcome and the context to report.
    ``model``: a pushed model dir trained on ``work``'s data by an earlier run (the
    pipeline is then not run; its blessing is reported as unknown)."""
    keras_mode.use_legacy_keras()
    profile = cities.get_city(setup.city)
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    data = work / "data"
    if not (data / network.NET_FILE).is_file():
        print(f"simulating {setup.train_days} training days ({setup.grid.rows}x{setup.grid.cols})")
        summary = simulate(
            profile,
            data,
            days=setup.train_days,
            start_date=TRAIN_START,
            grid=setup.grid,
            workers=setup.workers,
        )
        print(f"  {summary.total_rows} stop-line rows, {summary.wall_s:.0f} s")
    net = network.read_network(data / network.NET_FILE)
    if len(net.intersections) != setup.grid.rows * setup.grid.cols:
        raise SystemExit(
            f"error: {data} holds a {len(net.intersections)}-signal network, not the "
            f"{setup.grid.rows}x{setup.grid.cols} grid asked for; use another --work"
        )
    flows = demand_mod.grid_demand(profile, setup.grid, net, demand_mod.DemandParams())
    ratios = demand_mod.flow_ratios(flows, net)

    if model is None:
        config = warm_start_runs.write_config(
            work / f"{setup.city}.yaml", setup.city, eval_days=1, train_steps=setup.train_steps
        )
        pipeline = warm_start_runs.run_city_pipeline(
            "train",
            setup.city,
            work / "output",
            work / "logs",
            "--config",
            str(config),
            "--data",
            str(data),
            "--workers",
            "1",
        )
        model, blessed = Path(pipeline.summary.model_dir), pipeline.summary.blessed
    else:
        blessed = "unknown (--model)"
    files = model_files.load(str(model))
    approaches = [(a.intersection_id, a.direction) for a in net.approaches]
    predicted = predictions.approach_week(files, approaches)
    truth = true_week(flows, net)

    plans_dir = work / "plans"
    plans_dir.mkdir(exist_ok=True)
    advised = plans_api.plans_from_rates(
        net.path,
        approaches,
        predicted,
        max_plans_per_day=setup.max_plans_per_day,
        design_hour=setup.design_hour,
        coordination=setup.coordination,
    )
    oracle = plans_api.plans_from_rates(
        net.path,
        approaches,
        truth,
        bands=advised.bands,
        design_hour=setup.design_hour,
        coordination=setup.coordination,
    )
    candidates = [(plans_api.MEAN, coord.NONE), (plans_api.PEAK, coord.NONE)]
    if setup.coordination != coord.NONE:
        candidates.append((plans_api.PEAK, setup.coordination))
    fixed = {
        (hour if mode == coord.NONE else f"{hour}, {mode}"): plans_api.plans_from_rates(
            net.path, approaches, truth, bands=plans_api.SINGLE, design_hour=hour,
            coordination=mode,
        )
        for hour, mode in candidates
    }  # fmt: skip
    files_for: dict[str, list[Path]] = {DEFAULT: [], ACTUATED: []}
    for name, plans in ((ADVISED, advised), (ORACLE, oracle)):
        files_for[name] = [plans.write_additional(plans_dir / f"{name}.add.xml")]
        plans.write_csv(plans_dir / f"{name}.csv")
    for hour, plans in fixed.items():
        stem = "fixed-" + hour.replace(", ", "-")
        files_for[f"{BEST_FIXED} ({hour})"] = [
            plans.write_additional(plans_dir / f"{stem}.add.xml")
        ]
        plans.write_csv(plans_dir / f"{stem}.csv")

    cells = _cells(profile.timezone, HELDOUT_START, 7)
    routes = work / "heldout.rou.xml"
    # SUMO reads a route file while it simulates: replace it, never rewrite it in place,
    # so that another run of this benchmark on the same --work keeps reading its own copy.
    fresh = routes.with_suffix(f".{os.getpid()}.tmp")
    demand_mod.write_routes(flows, cells, fresh)
    os.replace(fresh, routes)
    # Day by day, so that an interrupted week leaves whole days in the run store.
    jobs = [(control, day) for day in setup.heldout_days for control in files_for]
    # One run per distinct input (controls may share byte-identical programs).
    unique: dict[str, tuple[str, int]] = {}
    key_of = {}
    for control, day in jobs:
        mode = sumo_control(control)
        key_of[control, day] = run_key(day, setup, mode, routes, files_for[control])[-1]
        unique.setdefault(key_of[control, day], (control, day))
    print(f"{len(jobs)} held-out runs, {len(unique)} distinct ({setup.workers} at a time)")
    with ThreadPoolExecutor(max_workers=setup.workers) as pool:
        futures = {
            key: pool.submit(
                _heldout_run, control, day, setup, net, routes, files_for[control],
                work / "heldout",
            )
            for key, (control, day) in unique.items()
        }  # fmt: skip
        by_key = {key: f.result() for key, f in futures.items()}
    simulated = sum(r.wall_s > 0 for r in by_key.values())
    print(f"  {simulated} simulated, {len(by_key) - simulated} read back from {work / 'heldout'}")
    results = {job: by_key[key] for job, key in key_of.items()}
    outcomes = {
        control: _combine({d: results[control, d] for d in setup.heldout_days}, setup)
        for control in files_for
    }
    fixed_names = [f"{BEST_FIXED} ({h})" for h in fixed]
    fixed_loss = {n: outcomes[n].mean(outcomes[n].time_loss) for n in fixed_names}
    best = min(fixed_names, key=fixed_loss.__getitem__)
    outcomes[BEST_FIXED] = outcomes[best]
    context = {
        "best_fixed": best,
        "fixed_time_loss": fixed_loss,
        "ratios": ratios,
        "advised": advised,
        "blessed": blessed,
        "wall_s": time.monotonic() - started,
        "rate_error": float(np.abs(predicted - truth).sum() / truth.sum()),
    }
    return {c: outcomes[c] for c in CONTROLS}, context


def table(outcomes: dict[str, Outcome], ratios: demand_mod.FlowRatios) -> str:
    """Markdown: mean time loss per vehicle per band and control, with the band's load."""
    reference = outcomes[ADVISED]
    rows = ["| band | peak Y | vehicles | " + " | ".join(CONTROLS) + " |"]
    rows.append("| --- | ---: | ---: | " + " | ".join("---:" for _ in CONTROLS) + " |")
    for name, mask in bands_of(reference).items():
        cells = []
        for control in CONTROLS:
            o = outcomes[control]
            cells.append(f"{o.mean(o.time_loss, bands_of(o).get(name)):.1f}")
        load = band_load(ratios, name)
        rows.append(f"| {name} | {load:.2f} | {int(mask.sum())} | " + " | ".join(cells) + " |")
    overall = [f"{o.mean(o.time_loss):.1f}" for o in (outcomes[c] for c in CONTROLS)]
    rows.append(
        f"| **all** | {float(ratios.total.max()):.2f} | {reference.time_loss.size} | "
        + " | ".join(overall)
        + " |"
    )
    return "\n".join(rows)


def detail(outcomes: dict[str, Outcome]) -> str:
    """Markdown: overall waiting, departure delay, vehicles and teleports per control."""
    rows = [
        "| control | time loss s/veh | waiting s/veh | departure delay s/veh | vehicles "
        "| teleports |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for control in CONTROLS:
        o = outcomes[control]
        rows.append(
            f"| {control} | {o.mean(o.time_loss):.1f} | {o.mean(o.waiting):.1f} | "
            f"{o.mean(o.depart_delay):.1f} | {o.time_loss.size} | {o.teleports} |"
        )
    return "\n".join(rows)


def plot(outcomes: dict[str, Outcome], path: Path, title: str) -> None:
    """Mean time loss per vehicle per band, one bar per control."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(bands_of(outcomes[ADVISED]))
    x = np.arange(len(names))
    width = 0.8 / len(CONTROLS)
    fig, ax = plt.subplots(figsize=(max(6, 1.4 * len(names)), 4))
    for k, control in enumerate(CONTROLS):
        o = outcomes[control]
        masks = bands_of(o)
        ax.bar(
            x + (k - (len(CONTROLS) - 1) / 2) * width,
            [o.mean(o.time_loss, masks.get(n)) for n in names],
            width,
            label=control,
        )
    ax.set_xticks(x, [n.replace(" ", "\n", 1) for n in names], fontsize=8)
    ax.set_ylabel("mean time loss per vehicle (s)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def result_line(outcomes: dict[str, Outcome]) -> str:
    """The last line: relative differences in mean time loss per vehicle."""
    loss = {c: outcomes[c].mean(outcomes[c].time_loss) for c in CONTROLS}
    return (
        f"RESULT advised_vs_best_fixed={relative(loss[ADVISED], loss[BEST_FIXED]):+.2f} "
        f"advised_vs_actuated={relative(loss[ADVISED], loss[ACTUATED]):+.2f} "
        f"advised_vs_oracle={relative(loss[ADVISED], loss[ORACLE]):+.2f} "
        f"teleports={outcomes[ADVISED].teleports}"
    )


def _days(text: str) -> tuple[int, ...]:
    days = tuple(sorted({int(d) for d in text.split(",")}))
    if not days or days[0] < 0 or days[-1] > 6:
        raise argparse.ArgumentTypeError(f"days of the week 0-6 (0 = Monday), got {text!r}")
    return days


def main(argv: list[str] | None = None) -> int:
    """Runs the closed loop and prints its figures; the last line is ``RESULT ...``."""
    keras_mode.use_legacy_keras()
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", required=True, type=Path, help="working dir (reused if present)")
    p.add_argument("--quick", action="store_true", help="2x2 grid, 2 days, 4 held-out hours")
    p.add_argument("--city", default="london")
    p.add_argument("--grid", default="5x5", help="RxC signals (default 5x5)")
    p.add_argument("--train-days", type=int, default=8, help="simulated days (last one: eval)")
    p.add_argument(
        "--heldout-days", type=_days, default=tuple(range(7)), help="e.g. 0,5 (default 0-6)"
    )
    p.add_argument("--train-steps", type=int, help="default: the city's config")
    p.add_argument("--max-plans-per-day", type=int, default=4)
    p.add_argument("--workers", type=int, default=2, help="SUMO runs at a time")
    p.add_argument(
        "--design-hour",
        choices=(plans_api.MEAN, plans_api.PEAK),
        default=DESIGN_HOUR,
        help="time the advised and oracle plans for each band's busiest hour (default, as "
        "measured in docs/advise.md) or its mean flow",
    )
    p.add_argument(
        "--coordination",
        choices=coord.MODES,
        default=coord.DEFAULT,
        help=f"of the advised and oracle plans (default {coord.DEFAULT}); a fixed plan with "
        "it joins the best-fixed candidates",
    )
    p.add_argument(
        "--model",
        type=Path,
        help="a pushed model dir trained on --work's data by an earlier run: skip the pipeline",
    )
    p.add_argument("--plot", type=Path, help="bar chart of time loss per band (PNG)")
    args = p.parse_args(argv)
    if args.quick:
        setup = quick_setup()
    else:
        rows, cols = (int(v) for v in args.grid.lower().split("x"))
        setup = Setup(
            args.city,
            network.GridSpec(rows=rows, cols=cols),
            args.train_days,
            args.heldout_days,
            (0, 24),
            args.train_steps,
            args.max_plans_per_day,
            args.workers,
            args.design_hour,
            args.coordination,
        )
    outcomes, context = run_benchmark(setup, args.work, args.model)
    ratios = context["ratios"]
    print()
    print(
        f"{setup.grid.rows}x{setup.grid.cols} grid, {setup.train_days} simulated training days "
        f"from {TRAIN_START}, held-out days {list(setup.heldout_days)} of the week of "
        f"{HELDOUT_START}, hours {setup.hours[0]:02d}-{setup.hours[1]:02d}; model blessed: "
        f"{context['blessed']}; coordination: {setup.coordination}; predicted vs true rate "
        "error (all approach x type x hour "
        f"cells): {context['rate_error']:.3f}; advised bands: {context['advised'].bands.count}; "
        f"{context['wall_s']:.0f} s"
    )
    print(
        f"best fixed plan: {context['best_fixed']} (candidates, s/veh: "
        + ", ".join(f"{k} {v:.1f}" for k, v in context["fixed_time_loss"].items())
        + ")"
    )
    print("\nmean time loss per vehicle (s), per band (peak Y = the band's busiest signal-hour)\n")
    print(table(outcomes, ratios))
    print()
    print(detail(outcomes))
    if args.plot:
        plot(
            outcomes, args.plot, f"{setup.city} {setup.grid.rows}x{setup.grid.cols}: held-out days"
        )
        print(f"\nplot: {args.plot}")
    print(result_line(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
