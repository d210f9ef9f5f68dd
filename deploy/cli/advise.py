"""``traffic-pipeline advise``: argparse glue only.

Exit codes: 0 ok; 2 bad usage or input (no model, a model without per-approach
predictions, a network whose signals are not the model's intersections, an unwritable
``--out``), with one line on stderr.
"""

from __future__ import annotations

import argparse

from deploy import exit_codes
from deploy.signal_plans import bands, coordination


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``advise``; it sets ``func(args) -> exit code``."""
    p = subparsers.add_parser(
        "advise", help="time-of-day signal timing plans for a SUMO network from a pushed model"
    )
    p.add_argument("--city", help="the city (its latest pushed model in --output)")
    p.add_argument("--output", default="output", help="output dir (default: ./output)")
    p.add_argument(
        "--model", help="a pushed model dir, a Trainer model artifact dir, or latest:<city>"
    )
    p.add_argument("--network", required=True, help="the SUMO .net.xml whose signals to time")
    p.add_argument("--out", required=True, help="dir for plans.add.xml, plans.csv, plans.html")
    p.add_argument(
        "--max-plans-per-day",
        type=int,
        default=bands.DEFAULT_MAX_PLANS_PER_DAY,
        help=f"at most this many plans in one day (default {bands.DEFAULT_MAX_PLANS_PER_DAY})",
    )
    p.add_argument(
        "--bands",
        choices=("flows", "regimes"),
        default="flows",
        help="group hours by the predicted flow ratios (default) or the embedding's regimes",
    )
    p.add_argument(
        "--start",
        metavar="DATE",
        help="the local date (YYYY-MM-DD) whose midnight is simulation time 0, as in "
        "simulate --start: switch times follow the city's clock across DST (default: time 0 "
        "is Monday 00:00 of a week of 168 equal hours, repeated)",
    )
    p.add_argument("--days", type=int, default=7, help="with --start: days of switches (default 7)")
    p.add_argument(
        "--coordination",
        choices=coordination.MODES,
        default=coordination.DEFAULT,
        help="per band: each signal on its own cycle (none), one common cycle (common-cycle), "
        "a common cycle with green-wave offsets (green-wave), or per band the green wave where "
        "one direction dominates or the opposite one progresses too, else none (auto); "
        f"default {coordination.DEFAULT}",
    )
    p.set_defaults(func=advise_command)


def advise_command(args: argparse.Namespace) -> int:
    """``traffic-pipeline advise``."""
    from deploy.insights.model_files import ModelError
    from deploy.signal_plans.advise import advise

    try:
        result = advise(
            args.city,
            network=args.network,
            out=args.out,
            output=args.output,
            model=args.model,
            max_plans_per_day=args.max_plans_per_day,
            band_method=args.bands,
            start=args.start,
            days=args.days,
            coordination=args.coordination,
        )
    except ModelError as err:
        exit_codes.error(err)
        return exit_codes.BAD_INPUT
    plans = result.plans
    for b, y in plans.load().items():
        wave = plans.wave_directions.get(b)
        cycles = sorted({round(plans.timings[s.intersection, b].cycle) for s in plans.signals})
        cycle = f"cycle {cycles[0]} s" if len(cycles) == 1 else f"cycles {cycles[0]}-{cycles[-1]} s"
        print(
            f"band-{b}: {plans.bands.when(b)}: max Y {y:.2f}, {cycle}"
            + (f", green wave {wave}bound" if wave else "")
            + (", uncoordinated" if not wave and plans.coordination == coordination.AUTO else "")
        )
    over = sorted({s for (s, _), t in plans.timings.items() if t.oversaturated})
    if over:
        print(f"oversaturated: {', '.join(over)}")
    if plans.unrated:
        print("no predictions (no flow): " + ", ".join(f"{i} {d}" for i, d in plans.unrated))
    for name in ("additional", "csv", "page"):
        print(f"{name}: {result.paths[name]}")
    return exit_codes.OK
