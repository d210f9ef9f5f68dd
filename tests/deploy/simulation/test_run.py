"""run(): real SUMO runs, their metrics, actuated control, and the stop-line loops."""

from __future__ import annotations

from datetime import date
from xml.etree import ElementTree

import numpy as np
import pytest

from deploy.datasets.simulation import demand, detectors, run
from deploy.datasets.synthetic import sampling
from tests.deploy.simulation.helpers import GRID_2X2, LONDON, grid_2x2
from transforms import features

MORNING = 8  # simulation hour 8 of a Monday starting at local midnight


def _routes(tmp_path, net, peak_y, hours=(MORNING, MORNING + 1)):
    flows = demand.grid_demand(LONDON, GRID_2X2, net, demand.DemandParams(peak_y=peak_y))
    cells = sampling.local_hour_cells(LONDON.timezone, date(2026, 3, 16), 1)
    path = tmp_path / f"y{peak_y}.rou.xml"
    demand.write_routes(flows, cells, path, *hours)
    return path


def test_light_demand_runs_without_teleports_and_sane_metrics(tmp_path):
    net = grid_2x2(tmp_path)
    routes = _routes(tmp_path, net, peak_y=0.3)
    result = run.run(net.path, routes, 3600 * MORNING, 3600 * (MORNING + 1), out_dir=tmp_path)
    overall = result.overall
    assert overall.vehicles > 500
    assert result.teleports == 0
    assert 0 <= overall.mean_waiting_s <= overall.mean_time_loss_s < 120
    assert overall.mean_depart_delay_s >= 0
    assert (result.time_loss_s >= 0).all()
    assert set(result.hourly()) == {MORNING}
    assert result.metrics([MORNING]) == overall
    assert np.isnan(result.metrics([3]).mean_time_loss_s)


def _starving_program(net_path, out_path, starved=("E", "W")):
    """A static program giving the arterial 5 s of green and the cross streets 80 s."""
    import sumolib

    from deploy.datasets.simulation.approaches import edge_direction

    net = sumolib.net.readNet(str(net_path), withPrograms=True)
    lines = ["<additional>"]
    for tls in net.getTrafficLights():
        starved_links = {
            index
            for (incoming, _, index) in tls.getConnections()
            if edge_direction(incoming.getEdge().getShape()) in starved
        }
        lines.append(f'  <tlLogic id="{tls.getID()}" type="static" programID="bad" offset="0">')
        for phase in next(iter(tls.getPrograms().values())).getPhases():
            green = [i for i, s in enumerate(phase.state) if s in "Gg"]
            duration = phase.duration
            if green:
                duration = 5 if set(green) <= starved_links else 80
            lines.append(f'    <phase duration="{duration}" state="{phase.state}"/>')
        lines.append("  </tlLogic>")
    lines.append("</additional>\n")
    out_path.write_text("\n".join(lines))
    return out_path


def test_actuated_beats_a_program_that_starves_the_loaded_arterial(tmp_path):
    net = grid_2x2(tmp_path)
    routes = _routes(tmp_path, net, peak_y=0.6)
    span = (3600 * MORNING, 3600 * (MORNING + 1))
    bad = _starving_program(net.path, tmp_path / "bad.add.xml")
    static = run.run(net.path, routes, *span, [bad], out_dir=tmp_path / "bad", seed=3)
    actuated = run.run(
        net.path, routes, *span, out_dir=tmp_path / "act", seed=3, control="actuated"
    )
    programs = ElementTree.parse(tmp_path / "act" / "actuated.add.xml").getroot()
    assert {t.get("type") for t in programs.iter("tlLogic")} == {"actuated"}
    assert actuated.overall.mean_time_loss_s < 0.5 * static.overall.mean_time_loss_s
    assert actuated.teleports == 0


def test_bad_arguments_and_sumo_failures_raise(tmp_path):
    net = grid_2x2(tmp_path)
    with pytest.raises(ValueError, match="control"):
        run.run(net.path, net.path, 0, 10, control="magic")
    with pytest.raises(ValueError, match="after begin"):
        run.run(net.path, net.path, 10, 10)
    broken = tmp_path / "broken.rou.xml"
    broken.write_text('<routes><vehicle id="v" depart="0" route="nowhere"/></routes>')
    with pytest.raises(run.SimulationError, match="sumo failed"):
        run.run(net.path, broken, 0, 10, out_dir=tmp_path / "fail")


def test_stop_line_rows_of_a_straight_route_carry_its_approaches_and_direction(tmp_path):
    net = grid_2x2(tmp_path)
    routes = tmp_path / "straight.rou.xml"
    routes.write_text(
        "<routes>\n"
        + demand.vtypes_xml()
        + '\n  <route id="east" edges="W1--LDN-0003 LDN-0003--LDN-0004 LDN-0004--E1"/>'
        + '\n  <route id="north" edges="S0--LDN-0003 LDN-0003--LDN-0001 LDN-0001--N0"/>'
        + '\n  <flow id="e" type="car" route="east" begin="0" end="600" number="20"/>'
        + '\n  <flow id="b" type="bicycle" route="east" begin="0" end="600" number="5"/>'
        + '\n  <flow id="n" type="truck" route="north" begin="0" end="600" number="10"/>'
        + "\n</routes>\n"
    )
    out = tmp_path / "loops.out.xml"
    loops = detectors.write_detectors(net, tmp_path / "loops.add.xml", out)
    result = run.run(net.path, routes, 0, 1200, [loops], out_dir=tmp_path, control="actuated")
    assert result.overall.vehicles == 35
    found = detectors.read_detections(out)
    keys = [
        (net.approaches[a].intersection_id, net.approaches[a].direction, features.VEHICLE_TYPES[v])
        for a, v in zip(found.approach, found.vehicle_type, strict=True)
    ]
    expected = {
        ("LDN-0003", "E", "car"): 20,
        ("LDN-0004", "E", "car"): 20,
        ("LDN-0003", "E", "bicycle"): 5,
        ("LDN-0004", "E", "bicycle"): 5,
        ("LDN-0003", "N", "truck"): 10,
        ("LDN-0001", "N", "truck"): 10,
    }
    assert {k: keys.count(k) for k in set(keys)} == expected
    bicycles = found.vehicle_type == features.VEHICLE_TYPES.index("bicycle")
    assert (found.lane[bicycles] == 1).all()  # the bike lane is the kerb lane
    assert (found.lane[~bicycles] >= 2).all()
    assert (found.speed_kmh >= 0).all() and found.speed_kmh.max() < 60


def test_the_seed_draws_the_arrivals_and_reproduces_a_run(tmp_path):
    net = grid_2x2(tmp_path)
    routes = _routes(tmp_path, net, peak_y=0.3)
    span = (3600 * MORNING, 3600 * (MORNING + 1))
    first, again, other = (
        run.run(net.path, routes, *span, out_dir=tmp_path / f"s{k}", seed=seed)
        for k, seed in enumerate((1, 1, 2))
    )
    np.testing.assert_array_equal(first.time_loss_s, again.time_loss_s)
    assert first.depart_s.size != other.depart_s.size or not np.array_equal(
        first.depart_s, other.depart_s
    )


def test_a_cut_output_file_is_an_error_not_a_smaller_run(tmp_path):
    # SUMO exits 0 when a full disk cuts its outputs; reading them must not pass for a run.
    net = grid_2x2(tmp_path)
    routes = _routes(tmp_path, net, peak_y=0.3)
    span = (3600 * MORNING, 3600 * MORNING + 600)
    result = run.run(net.path, routes, *span, out_dir=tmp_path / "whole")
    tripinfo = tmp_path / "whole" / "tripinfo.xml"
    assert run.output_complete(tripinfo)
    assert run.read_result(tmp_path / "whole", 600.0).depart_s.size == result.depart_s.size > 0
    text = tripinfo.read_bytes()
    tripinfo.write_bytes(text[: len(text) // 2])
    with pytest.raises(run.SimulationError, match=r"tripinfo\.xml is incomplete"):
        run.read_result(tmp_path / "whole", 600.0)


def test_a_run_stopped_before_its_end_is_an_error_not_a_smaller_run(tmp_path):
    # SUMO stopped by SIGTERM exits 0 and closes its files: only the time it reached, in
    # its statistics, tells the stopped run from a whole one.
    net = grid_2x2(tmp_path)
    routes = _routes(tmp_path, net, peak_y=0.3)
    span = (3600 * MORNING, 3600 * MORNING + 600)
    run.run(net.path, routes, *span, out_dir=tmp_path / "whole")
    stats = tmp_path / "whole" / "statistics.xml"
    assert run.read_simulated_s(stats) == 600.0
    assert run.read_result(tmp_path / "whole", 600.0).depart_s.size > 0
    reached = f'end="{3600 * MORNING + 600:.2f}"'
    text = stats.read_text()
    assert text.count(reached) == 1
    stats.write_text(text.replace(reached, f'end="{3600 * MORNING + 240:.2f}"'))
    with pytest.raises(run.SimulationError, match=r"stopped after 240 of 600 simulated"):
        run.read_result(tmp_path / "whole", 600.0)
