"""Running SUMO: one simulation, its metrics per hour and overall.

:func:`run` runs the pinned ``sumo`` binary as a subprocess (no libsumo, no TraCI) on a
network, a route file and any additional files, and parses its ``--tripinfo-output``
(one record per vehicle, unfinished ones included) and ``--statistic-output`` (teleports).
The API is what the closed-loop benchmark calls::

    result = run(net, routes, begin=0, end=86400, out_dir=work, seed=1,
                 additional_files=[plans_add_xml])      # advised tlLogic + WAUT programs
    result.overall.mean_time_loss_s, result.teleports
    result.metrics(hours=range(7, 10))                  # a band of simulation hours

Control:

* ``control="static"`` (default): the network's programs as loaded, i.e. its default
  static program, unless an additional file loads other programs (the last program
  loaded for a signal is the active one, and a ``WAUT`` switches between programs);
* ``control="actuated"``: every signal runs SUMO's gap-based actuated control on the
  phases of its network program (:func:`actuated_programs` writes them as an additional
  ``tlLogic type="actuated"`` file, programID ``actuated``; SUMO's documented way to load
  other programs). Netconvert's ``--tls.default-type actuated`` builds the same for a
  new network; converting keeps one network for every control.

Metrics per vehicle come from tripinfo: ``timeLoss`` (time lost against driving at the
desired speed), ``waitingTime`` (time at speed < 0.1 m/s), ``departDelay`` (waiting to be
inserted). Hours are simulation hours ``floor(depart / 3600)``.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from deploy.datasets.simulation.network import sumo_binary, sumo_env

CONTROLS = ("static", "actuated")
DEFAULT_TIME_TO_TELEPORT = 300
STEP_TOLERANCE_S = 1.0  # one default SUMO step: a run that reached its end
ACTUATED_MIN_GREEN, ACTUATED_MAX_GREEN = 5, 60
_TRIP = re.compile(
    r'<tripinfo id="[^"]*" depart="([-\d.]+)".*?departDelay="([-\d.]+)".*?'
    r'waitingTime="([-\d.]+)".*?timeLoss="([-\d.]+)".*?vType="([^"]*)"'
)


class SimulationError(RuntimeError):
    """SUMO failed (the message holds its last error line)."""


@dataclass(frozen=True)
class Metrics:
    """Means over the vehicles of a set (zero vehicles: NaN means)."""

    vehicles: int
    mean_time_loss_s: float
    mean_waiting_s: float
    mean_depart_delay_s: float


@dataclass(frozen=True)
class RunResult:
    """One simulation's per-vehicle records and summary."""

    depart_s: np.ndarray  # per vehicle (tripinfo), simulation seconds
    time_loss_s: np.ndarray
    waiting_s: np.ndarray
    depart_delay_s: np.ndarray
    vehicle_type: np.ndarray  # vType ids (str)
    teleports: int
    wall_s: float
    simulated_s: float
    out_dir: Path

    @property
    def overall(self) -> Metrics:
        """Metrics over every vehicle."""
        return self._metrics(np.ones(self.depart_s.size, dtype=bool))

    def metrics(self, hours: Iterable[int]) -> Metrics:
        """Metrics over the vehicles that departed in these simulation hours."""
        mask = np.isin((self.depart_s // 3600).astype(np.int64), list(hours))
        return self._metrics(mask)

    def hourly(self) -> dict[int, Metrics]:
        """Metrics per simulation hour of departure."""
        hours = (self.depart_s // 3600).astype(np.int64)
        return {int(h): self._metrics(hours == h) for h in np.unique(hours)}

    def _metrics(self, mask: np.ndarray) -> Metrics:
        n = int(mask.sum())

        def mean(values: np.ndarray) -> float:
            return float(values[mask].mean()) if n else float("nan")

        return Metrics(n, mean(self.time_loss_s), mean(self.waiting_s), mean(self.depart_delay_s))


def run(
    network: str | Path,
    routes: str | Path,
    begin: float,
    end: float,
    additional_files: Sequence[str | Path] = (),
    out_dir: str | Path = ".",
    seed: int = 0,
    *,
    control: str = "static",
    time_to_teleport: int = DEFAULT_TIME_TO_TELEPORT,
    extra_args: Sequence[str] = (),
) -> RunResult:
    """Simulates ``[begin, end)`` seconds and returns the per-vehicle metrics.

    Writes ``tripinfo.xml``, ``statistics.xml`` (and for ``control="actuated"``
    ``actuated.add.xml``) into ``out_dir``. Vehicles still driving at ``end`` are included
    with their time so far. Raises :class:`SimulationError` if SUMO fails, ``ValueError``
    for a bad argument.
    """
    if control not in CONTROLS:
        raise ValueError(f"control {control!r} not in {', '.join(CONTROLS)}")
    if not end > begin:
        raise ValueError(f"end ({end}) must be after begin ({begin})")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    additional = [str(Path(a).absolute()) for a in additional_files]
    if control == "actuated":
        additional.insert(0, str(actuated_programs(network, out / "actuated.add.xml")))
    tripinfo, stats = out / "tripinfo.xml", out / "statistics.xml"
    args = [
        sumo_binary("sumo"),
        "--net-file", str(Path(network).absolute()),
        "--route-files", str(Path(routes).absolute()),
        "--begin", str(begin),
        "--end", str(end),
        "--seed", str(seed),
        "--time-to-teleport", str(time_to_teleport),
        "--tripinfo-output", str(tripinfo),
        "--tripinfo-output.write-unfinished", "true",
        "--statistic-output", str(stats),
        "--no-step-log", "true",
        "--no-warnings", "true",
        "--duration-log.disable", "true",
        *extra_args,
    ]  # fmt: skip
    if additional:
        args += ["--additional-files", ",".join(additional)]
    start = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=sumo_env(), check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        errors = [line for line in proc.stderr.splitlines() if line.strip()] or ["(no output)"]
        raise SimulationError(f"sumo failed (exit {proc.returncode}): {errors[-1]}")
    return read_result(out, float(end - begin), wall)


def read_result(out_dir: str | Path, simulated_s: float, wall_s: float = 0.0) -> RunResult:
    """The :class:`RunResult` of a finished :func:`run` from the files it wrote."""
    out = Path(out_dir)
    tripinfo = out / "tripinfo.xml"
    if not output_complete(tripinfo):
        # SUMO exits 0 when it cannot write its outputs (e.g. a full disk): never read a
        # cut file as a smaller run.
        raise SimulationError(f"{tripinfo} is incomplete (a full disk?); run it again")
    reached = read_simulated_s(out / "statistics.xml")
    if reached < simulated_s - STEP_TOLERANCE_S:
        # SUMO stopped by a signal (SIGTERM) also exits 0 with whole, closed outputs.
        raise SimulationError(
            f"{out / 'statistics.xml'}: SUMO stopped after {reached:g} of {simulated_s:g} "
            "simulated seconds (interrupted?); run it again"
        )
    depart, delay, waiting, loss, vtype = _read_tripinfo(tripinfo)
    return RunResult(
        depart_s=depart,
        time_loss_s=loss,
        waiting_s=waiting,
        depart_delay_s=delay,
        vehicle_type=vtype,
        teleports=read_teleports(out / "statistics.xml"),
        wall_s=wall_s,
        simulated_s=simulated_s,
        out_dir=out,
    )


def output_complete(path: Path) -> bool:
    """Whether a SUMO XML output file ends with a closing root tag (``</tripinfos>``,
    ``</instantE1>``, ...): SUMO writes it last, so a cut file lacks it."""
    if not path.is_file():
        return False
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 256))
        tail = f.read().rstrip()
    return tail.endswith(b">") and tail.rsplit(b"<", 1)[-1].startswith(b"/")


def _read_tripinfo(path: Path) -> tuple[np.ndarray, ...]:
    rows = _TRIP.findall(path.read_text())
    if not rows:
        empty = np.zeros(0)
        return empty, empty, empty, empty, np.zeros(0, dtype=str)
    depart, delay, waiting, loss, vtype = zip(*rows, strict=True)
    as_float = [np.asarray(column, dtype=float) for column in (depart, delay, waiting, loss)]
    return (*as_float, np.asarray(vtype))


def read_simulated_s(path: Path) -> float:
    """Simulated seconds SUMO reached (``performance`` ``end - begin`` of a
    ``--statistic-output`` file)."""
    node = ElementTree.parse(path).getroot().find("performance")
    if node is None:
        raise SimulationError(f"{path}: no <performance> element; run it again")
    return float(node.get("end", "nan")) - float(node.get("begin", "nan"))


def read_teleports(path: Path) -> int:
    """Total teleports from a ``--statistic-output`` file."""
    node = ElementTree.parse(path).getroot().find("teleports")
    return int(node.get("total", "0")) if node is not None else 0


def actuated_programs(
    network: str | Path,
    out_path: str | Path,
    min_green: int = ACTUATED_MIN_GREEN,
    max_green: int = ACTUATED_MAX_GREEN,
) -> Path:
    """Writes an additional file with every signal's network program as SUMO gap-actuated
    control (programID ``actuated``): green phases get ``minDur``/``maxDur``, yellow and
    all-red phases keep their duration."""
    root = ElementTree.parse(network).getroot()
    lines = ["<additional>"]
    for logic in root.iter("tlLogic"):
        lines.append(
            f'  <tlLogic id="{logic.get("id")}" type="actuated" programID="actuated" offset="0">'
        )
        for phase in logic.iter("phase"):
            state, duration = phase.get("state", ""), phase.get("duration")
            if "G" in state or "g" in state:
                lines.append(
                    f'    <phase duration="{duration}" minDur="{min_green}" '
                    f'maxDur="{max_green}" state="{state}"/>'
                )
            else:
                lines.append(f'    <phase duration="{duration}" state="{state}"/>')
        lines.append("  </tlLogic>")
    lines.append("</additional>\n")
    Path(out_path).write_text("\n".join(lines))
    return Path(out_path)
