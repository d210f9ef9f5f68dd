"""``advise``: a pushed model's predictions -> time-of-day plans for a SUMO network.

Writes into ``out``: ``plans.add.xml`` (SUMO additional: ``tlLogic`` + ``WAUT``),
``plans.csv`` and ``plans.html``. Bad input raises ``AdviseError`` (the CLI prints one
line and exits 2): an unwritable ``out``, a network that is missing or has no signals,
a model without per-approach predictions (no ``approaches.json``), or a network whose
signals are not the model's intersections.
"""

from __future__ import annotations

import os
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from deploy.insights import model_files, predictions
from deploy.insights.model_files import ModelError
from deploy.insights.summary import PlansSection
from deploy.signal_plans import bands as bands_module
from deploy.signal_plans import coordination as coord
from deploy.signal_plans import page
from deploy.signal_plans.api import SignalPlans, cell_features, plans_from_rates, signal_pcu
from deploy.signal_plans.phases import Signal, read_signals
from deploy.signal_plans.webster import PlanSettings
from transforms import features

ADDITIONAL_FILE = "plans.add.xml"
CSV_FILE = "plans.csv"
PAGE_FILE = "plans.html"
BAND_METHODS = ("flows", "regimes")
MAX_LISTED = 8


class AdviseError(ModelError):
    """Bad input to ``advise`` (exit code 2)."""


@dataclass
class Advice:
    plans: SignalPlans
    files: model_files.ModelFiles
    paths: dict[str, Path]


def _writable(out: str) -> Path:
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".advise-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise AdviseError(f"--out {out}: not writable ({err.strerror or err})") from err
    return path


def _signals(network: str) -> list[Signal]:
    if not os.path.isfile(network):
        raise AdviseError(f"--network {network}: no such file")
    try:
        signals = read_signals(network)
    except Exception as err:  # sumolib's parser errors (lxml/expat) have no common base
        raise AdviseError(f"--network {network}: not a readable SUMO network ({err})") from err
    if not signals:
        raise AdviseError(f"--network {network}: has no traffic lights")
    return signals


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


def _start(start: str | None, tz_name: str, days: int) -> datetime | None:
    """``--start``: that date's local midnight in the model's time zone."""
    if start is None:
        return None
    if days < 1:
        raise AdviseError(f"--days {days}: must be >= 1")
    try:
        day = date.fromisoformat(start)
        zone = zoneinfo.ZoneInfo(tz_name)
    except ValueError as err:
        raise AdviseError(f"--start {start!r}: not a date (YYYY-MM-DD)") from err
    except (zoneinfo.ZoneInfoNotFoundError, TypeError) as err:
        raise AdviseError(f"--start: the model has no usable time zone ({tz_name!r})") from err
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def check_match(signals: list[Signal], known: list[tuple[str, str]], model_dir: str) -> None:
    """Every signal of the network must be an intersection the model trained on."""
    intersections = {i for i, _ in known}
    missing = [s.intersection for s in signals if s.intersection not in intersections]
    if missing:
        raise AdviseError(
            f"the network's signals {_listed(missing)} are not intersections of the model "
            f"{model_dir} (it knows {_listed(sorted(intersections))}); the signal ids must be "
            "the intersection_id of the data the model trained on"
        )


def advise(
    city: str | None,
    *,
    network: str,
    out: str,
    output: str | None = None,
    model: str | None = None,
    max_plans_per_day: int = bands_module.DEFAULT_MAX_PLANS_PER_DAY,
    band_method: str = "flows",
    settings: PlanSettings | None = None,
    start: str | None = None,
    days: int = 7,
    coordination: str = coord.DEFAULT,
) -> Advice:
    """Plans for every signal of ``network`` from the model's predicted week.

    ``start``: the local date (``YYYY-MM-DD``, the model's time zone) whose midnight is
    simulation time 0, for DST-correct switch times over ``days`` days (``writer.switch_times``).
    ``coordination``: one of ``coordination.MODES``."""
    if coordination not in coord.MODES:
        raise AdviseError(f"--coordination {coordination!r}: not one of {', '.join(coord.MODES)}")
    if band_method not in BAND_METHODS:
        raise AdviseError(f"--bands {band_method!r}: not one of {', '.join(BAND_METHODS)}")
    if max_plans_per_day < 1:
        raise AdviseError(f"--max-plans-per-day {max_plans_per_day}: must be >= 1")
    out_dir = _writable(out)
    signals = _signals(network)
    files = model_files.find(city, output, model)
    if files.approaches is None:
        raise AdviseError(
            f"{files.model_dir} has no per-approach predictions (no "
            f"{features.APPROACHES_FILE}: exported before approaches were recorded); re-run "
            "the pipeline"
        )
    check_match(signals, files.approaches, files.model_dir)
    start_time = _start(start, files.timezone, days)
    known = set(files.approaches)
    approaches = [a for s in signals for a in s.approaches if a in known]
    rates = predictions.approach_week(files, approaches)
    settings = settings or PlanSettings()
    bands: str | bands_module.Bands = "auto"
    if band_method == "regimes":
        pcu, _ = signal_pcu(signals, approaches, rates, settings)
        labels = bands_module.regime_labels(files.vectors, rates.sum(axis=0), max_plans_per_day + 1)
        x = cell_features(signals, pcu, settings)
        bands = bands_module.plan_bands(x, max_plans_per_day, labels=labels, method="regimes")
    plans = plans_from_rates(
        network, approaches, rates, bands, settings, max_plans_per_day, coordination=coordination
    )
    paths = {
        "additional": plans.write_additional(out_dir / ADDITIONAL_FILE, start_time, days),
        "csv": plans.write_csv(out_dir / CSV_FILE),
    }
    title = f"Signal plans: {files.city or '?'} model {files.version}"
    note = (
        f"Model {files.model_dir}; network {network}; {len(signals)} signals; "
        f"{plans.bands.count} plan bands ({band_method}), at most {max_plans_per_day} a day; "
        f"coordination: {coordination}. "
        "Webster timings from the model's predicted vehicles per hour by approach and type."
    )
    paths["page"] = out_dir / PAGE_FILE
    paths["page"].write_text(page.render(plans, title, note))
    return Advice(plans, files, paths)


def report_section(
    report_dir: str,
    *,
    city: str | None,
    network: str,
    output: str | None = None,
    model: str | None = None,
) -> PlansSection:
    """``explain --network``: writes the plans into ``report_dir`` (``PAGE_FILE``, plans.csv,
    plans.add.xml) and returns what the report shows of them."""
    plans = advise(city, network=network, out=report_dir, output=output, model=model).plans
    return PlansSection(
        network=os.path.abspath(network),
        page=PAGE_FILE,
        signals=len(plans.signals),
        bands=plans.bands.count,
        coordination=plans.coordination,
        max_y_per_band={str(b): round(y, 3) for b, y in plans.load().items()},
    )
