"""The closed loop in CI: simulate -> run -> advise -> one simulated hour under the plans.

On a 2x2 grid, as a user types it: ``simulate`` two days, ``run`` the pipeline on the
detector files, ``advise`` plans for the same network from the pushed model, then one
simulated Monday morning peak hour of another seed under the advised programs and under
the network's own static program. The advised plans must switch in SUMO, lose nobody
(no teleports) and beat the default program on that hour.
"""

from __future__ import annotations

import csv
from xml.etree import ElementTree

import pytest
import yaml

from benchmarks import bench_signal_plans as bench
from deploy.cli import main as cli_main
from deploy.simulation import demand, network
from deploy.simulation import run as sim
from deploy.synthetic import cities
from deploy.synthetic.sampling import local_hour_cells

pytestmark = pytest.mark.slow
PEAK_HOUR = 8  # Monday 08:00-09:00 local


def test_simulate_run_advise_and_one_simulated_hour(tmp_path, capsys):
    data, output, plans = tmp_path / "data", tmp_path / "output", tmp_path / "plans"
    grid = ["--grid", "2x2"]
    assert cli_main(["simulate", "--city", "london", "--out", str(data), *grid, "--days", "2"]) == 0
    config = tmp_path / "london.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "city": "london",
                "timezone": "Europe/London",
                "data": {"split": {"kind": "time", "eval_days": 1}},
                "training": {"train_steps": 300, "eval_steps": 20, "batch_size": 256},
            }
        )
    )
    run = ["run", "--city", "london", "--config", str(config), "--data", str(data)]
    assert cli_main([*run, "--output", str(output), "--workers", "1"]) == 0
    net_file = data / network.NET_FILE
    advise = ["advise", "--city", "london", "--output", str(output), "--network", str(net_file)]
    assert cli_main([*advise, "--out", str(plans)]) == 0
    capsys.readouterr()

    net = network.read_network(net_file)
    with open(plans / "plans.csv") as f:
        rows = list(csv.DictReader(f))
    bands = {r["band"] for r in rows}
    assert len(rows) == len(net.intersections) * len(bands) and len(bands) >= 2
    assert {r["signal"] for r in rows} == set(net.intersections)

    profile = cities.get_city("london")
    flows = demand.grid_demand(profile, network.GridSpec(rows=2, cols=2), net)
    cells = local_hour_cells(profile.timezone, bench.HELDOUT_START, 1)
    routes = tmp_path / "monday.rou.xml"
    demand.write_routes(flows, cells, routes, PEAK_HOUR, PEAK_HOUR + 1)
    span = {"begin": 3600 * PEAK_HOUR, "end": 3600 * (PEAK_HOUR + 1) + bench.DRAIN_S}
    probe, states = tmp_path / "probe.add.xml", tmp_path / "states.xml"
    probe.write_text(  # which program each switch of one signal belongs to
        f'<additional><timedEvent type="SaveTLSSwitchStates" source="{net.intersections[0]}" '
        f'dest="{states}"/></additional>\n'
    )
    advised = sim.run(
        net.path, routes, **span, additional_files=[plans / "plans.add.xml", probe],
        out_dir=tmp_path / "advised", seed=bench.HELDOUT_SEED,
    )  # fmt: skip
    default = sim.run(
        net.path, routes, **span, out_dir=tmp_path / "default", seed=bench.HELDOUT_SEED
    )
    programs = {e.get("programID") for e in ElementTree.parse(states).getroot().iter("tlsState")}
    assert programs and programs <= {r["program_id"] for r in rows}, programs  # not "0"
    assert advised.teleports == 0
    assert advised.overall.vehicles > 1000
    assert advised.overall.mean_time_loss_s < default.overall.mean_time_loss_s, (
        advised.overall,
        default.overall,
    )
