"""simulate -> run -> advise -> an hour of SUMO under the advised plans (2x2 grid)."""

from __future__ import annotations

import csv
from datetime import date
from xml.etree import ElementTree

import pytest

from deploy.cli import main as cli_main
from deploy.datasets.simulation import demand, network, run
from deploy.datasets.synthetic import cities, sampling
from tests.deploy.conftest import SIMULATED_START as START

pytestmark = pytest.mark.slow

SUNDAY_NOON = 24 + 12  # simulation hour (time 0 = Saturday's local midnight)


def test_simulate_run_advise_then_an_hour_under_the_plans(simulated_weekend, tmp_path, capsys):
    # simulate -> run: the shared fixture (tests/deploy/conftest.py)
    data, output, plans = simulated_weekend.data, simulated_weekend.output, tmp_path / "plans"
    assert simulated_weekend.code == 0, simulated_weekend.out[-2000:]
    net_path = data / network.NET_FILE
    advise = ["advise", "--city", "london", "--output", str(output), "--network", str(net_path)]
    assert cli_main([*advise, "--out", str(plans), "--start", START, "--days", "2"]) == 0
    capsys.readouterr()
    with (plans / "plans.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {r["signal"] for r in rows} == {"LDN-0001", "LDN-0002", "LDN-0003", "LDN-0004"}

    # One held-out hour (another seed) of simulate's own demand under the advised plans.
    profile = cities.get_city("london")
    net = network.read_network(net_path)
    flows = demand.grid_demand(profile, network.GridSpec(rows=2, cols=2), net)
    cells = sampling.local_hour_cells(profile.timezone, date.fromisoformat(START), 2)
    routes = tmp_path / "hour.rou.xml"
    demand.write_routes(flows, cells, routes, SUNDAY_NOON, SUNDAY_NOON + 1)
    begin = 3600 * SUNDAY_NOON
    probe, states = tmp_path / "probe.add.xml", tmp_path / "states.xml"
    probe.write_text(  # the program of each switch of one signal: the WAUT's, not the net's "0"
        f'<additional><timedEvent type="SaveTLSSwitchStates" source="LDN-0001" dest="{states}"/>'
        "</additional>\n"
    )
    result = run.run(
        net_path, routes, begin, begin + 3600 + 600, [plans / "plans.add.xml", probe],
        tmp_path / "sim", seed=99,
    )  # fmt: skip
    programs = {e.get("programID") for e in ElementTree.parse(states).getroot().iter("tlsState")}
    assert programs and programs <= {r["program_id"] for r in rows}, programs
    static = run.run(net_path, routes, begin, begin + 3600 + 600, [], tmp_path / "static", seed=99)
    print(
        f"Sunday 12:00, {result.depart_s.size} vehicles: mean time loss "
        f"{result.overall.mean_time_loss_s:.1f} s advised, {static.overall.mean_time_loss_s:.1f} "
        "s SUMO's default static program"
    )
    assert result.teleports == 0
    assert result.depart_s.size > 100
    assert result.overall.mean_time_loss_s < static.overall.mean_time_loss_s
