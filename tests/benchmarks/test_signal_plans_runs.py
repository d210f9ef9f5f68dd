"""benchmarks.bench_signal_plans: the held-out run store. Runs are kept by their inputs, so
controls with byte-identical programs share one real SUMO run, another program never
overwrites it, and a run read back is what simulating it again gives (2x2 grid, one hour)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks import bench_signal_plans as bench
from deploy.datasets.simulation import network, run
from tests.deploy.signal_plans.networks import grid_network, grid_routes

HOUR = (8, 9)  # the held-out hours of day 0: one hour plus the drain


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> tuple[bench.Setup, network.Network, Path]:
    """A 2x2 grid, its straight routes as Poisson flows over the hour, and a Setup."""
    work = tmp_path_factory.mktemp("loop")
    net = network.read_network(grid_network(work))
    lines = ['<routes>\n  <vType id="car" vClass="passenger"/>']
    for rid, edges in grid_routes().items():
        lines.append(f'  <route id="{rid}" edges="{edges}"/>')
    begin, end = 3600 * HOUR[0], 3600 * HOUR[1]
    for rid in grid_routes():
        lines.append(
            f'  <flow id="{rid}.f" type="car" route="{rid}" begin="{begin}" end="{end}" '
            'period="exp(0.08)" departLane="best" departSpeed="max"/>'
        )
    routes = work / "heldout.rou.xml"
    routes.write_text("\n".join([*lines, "</routes>\n"]))
    setup = bench.Setup("london", network.GridSpec(rows=2, cols=2), 1, (0,), HOUR, 1, 4, 1)
    return setup, net, routes


def _programs(net: network.Network, path: Path, max_green: int) -> list[Path]:
    return [run.actuated_programs(net.path, path, max_green=max_green)]


def _same(a: run.RunResult, b: run.RunResult) -> None:
    for field in ("depart_s", "time_loss_s", "waiting_s", "depart_delay_s", "vehicle_type"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.teleports == b.teleports


def test_identical_programs_share_one_run_and_others_do_not_overwrite_it(loop, tmp_path):
    setup, net, routes = loop
    store = tmp_path / "heldout"
    one = _programs(net, tmp_path / "one.add.xml", 40)
    same = _programs(net, tmp_path / "same.add.xml", 40)  # other path and name, same bytes
    other = _programs(net, tmp_path / "other.add.xml", 20)

    first = bench._heldout_run("best fixed (peak, auto)", 0, setup, net, routes, one, store)
    assert first.wall_s > 0 and first.depart_s.size > 50  # simulated
    shared = bench._heldout_run("best fixed (peak, green-wave)", 0, setup, net, routes, same, store)
    assert shared.wall_s == 0.0  # read back, not simulated
    _same(first, shared)
    assert len(list(store.iterdir())) == 1

    changed = bench._heldout_run("advised", 0, setup, net, routes, other, store)
    assert changed.wall_s > 0
    assert not np.array_equal(changed.time_loss_s, first.time_loss_s)
    assert len(list(store.iterdir())) == 2
    _same(first, bench._heldout_run("advised", 0, setup, net, routes, one, store))

    # Read back == simulated again from scratch: the store changes no result.
    fresh = bench._heldout_run("advised", 0, setup, net, routes, one, tmp_path / "fresh")
    assert fresh.wall_s > 0
    _same(first, fresh)


def test_the_key_covers_every_input_sumo_is_given(loop, tmp_path):
    setup, net, routes = loop
    programs = _programs(net, tmp_path / "p.add.xml", 40)
    key = bench.run_key(0, setup, "static", routes, programs)[-1]
    assert bench.run_key(0, setup, "static", routes, programs)[-1] == key
    assert bench.run_key(1, setup, "static", routes, programs)[-1] != key  # span and seed
    assert bench.run_key(0, setup, "actuated", routes, programs)[-1] != key
    assert bench.run_key(0, setup, "static", routes, [])[-1] != key
    shifted = tmp_path / "shifted.rou.xml"
    shifted.write_text(routes.read_text().replace('period="exp(0.08)"', 'period="exp(0.07)"'))
    assert bench.run_key(0, setup, "static", shifted, programs)[-1] != key
