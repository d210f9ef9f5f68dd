"""``traffic-pipeline advise`` on a real trained model and a real SUMO grid."""

from __future__ import annotations

import csv
import re
import shutil

import pytest

from deploy.cli import main as cli_main
from deploy.signal_plans.advise import advise
from tests.deploy.signal_plans.networks import grid_network


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("error: ")
    return err[0]


def test_advise_writes_plans_csv_and_page(model_dir, grid_2x2, tmp_path, capsys):
    out = tmp_path / "plans"
    argv = ["advise", "--model", model_dir, "--network", str(grid_2x2), "--out", str(out)]
    assert cli_main([*argv, "--max-plans-per-day", "3"]) == 0
    printed = capsys.readouterr().out
    assert "band-0:" in printed and f"csv: {out / 'plans.csv'}" in printed
    with (out / "plans.csv").open() as f:
        rows = list(csv.DictReader(f))
    signals = {r["signal"] for r in rows}
    assert signals == {"X000", "X001", "X002", "X003"}
    bands = {int(r["band"]) for r in rows}
    assert len(rows) == 4 * len(bands)
    assert "<tlLogic" in (out / "plans.add.xml").read_text()
    page = (out / "plans.html").read_text()
    assert page.count("data:image/png;base64,") == 4  # one figure per signal
    assert "http://" not in page.replace("http://www.w3.org", "") and "<script src" not in page
    assert 'period="604800"' in (out / "plans.add.xml").read_text()  # a repeating week
    # The default coordination is auto: each band says whether it keeps the wave.
    lines = [line for line in printed.splitlines() if line.startswith("band-")]
    assert lines and all(("green wave" in line) != ("uncoordinated" in line) for line in lines)


def test_green_wave_plans_share_a_cycle_per_band(model_dir, grid_2x2, tmp_path, capsys):
    out = tmp_path / "plans"
    argv = ["advise", "--model", model_dir, "--network", str(grid_2x2), "--out", str(out)]
    assert cli_main([*argv, "--coordination", "green-wave"]) == 0
    printed = capsys.readouterr().out
    assert "bound" in printed and "uncoordinated" not in printed  # a wave in every band
    with (out / "plans.csv").open() as f:
        rows = list(csv.DictReader(f))
    for b in {int(r["band"]) for r in rows}:  # one common cycle per band
        assert len({r["cycle_s"] for r in rows if int(r["band"]) == b}) == 1


def test_uncoordinated_plans(model_dir, grid_2x2, tmp_path, capsys):
    out = tmp_path / "plans"
    argv = ["advise", "--model", model_dir, "--network", str(grid_2x2), "--out", str(out)]
    assert cli_main([*argv, "--coordination", "none"]) == 0
    assert "bound" not in capsys.readouterr().out
    with (out / "plans.csv").open() as f:
        assert {float(r["offset_s"]) for r in csv.DictReader(f)} == {0.0}
    with pytest.raises(SystemExit) as usage:  # argparse's usage error
        cli_main([*argv, "--coordination", "wave"])
    assert usage.value.code == 2


def test_auto_coordination_names_each_bands_choice(model_dir, grid_2x2, tmp_path, capsys):
    out = tmp_path / "plans"
    argv = ["advise", "--model", model_dir, "--network", str(grid_2x2), "--out", str(out)]
    assert cli_main([*argv, "--coordination", "auto"]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("band-")]
    assert lines and all(("green wave" in line) != ("uncoordinated" in line) for line in lines)
    with (out / "plans.csv").open() as f:
        rows = list(csv.DictReader(f))
    for line in lines:
        band = int(line.split(":")[0].removeprefix("band-"))
        offsets = {float(r["offset_s"]) for r in rows if int(r["band"]) == band}
        if "uncoordinated" in line:
            assert offsets == {0.0}


def test_start_lists_dst_correct_switches(model_dir, grid_2x2, tmp_path):
    """Europe/London (the fixture's zone) springs forward on Sunday 29 March 2026 at
    01:00 GMT: from Sunday 02:00 local on, a switch comes one hour sooner after time 0
    (Monday 23 March 00:00 GMT) than its hour of the week says."""
    result = advise(
        None, model=model_dir, network=str(grid_2x2), out=str(tmp_path), start="2026-03-23",
        days=14,
    )  # fmt: skip
    text = result.paths["additional"].read_text()
    assert "period=" not in text
    times = [float(t) for t in re.findall(r'wautSwitch time="([0-9.]+)"', text)]
    change = 6 * 24 + 2  # the cell of Sunday 02:00
    week1 = [3600.0 * (c - (c >= change)) for c, _ in result.plans.bands.switches() if c > 0]
    week2 = [3600.0 * (c + 7 * 24 - 1) for c, _ in result.plans.bands.switches()]
    assert times == sorted(week1 + week2)


def test_the_plans_follow_the_model(model_dir, grid_2x2, tmp_path):
    """The fixture city's rush hours (weekdays 07-08h and 16-17h) are the busiest band."""
    result = advise(None, model=model_dir, network=str(grid_2x2), out=str(tmp_path))
    plans = result.plans
    for day in range(7):
        assert len(plans.bands.day_runs(day)) <= 4
    load = plans.load()
    rush = int(plans.bands.assignment[8])  # Monday 08:00
    night = int(plans.bands.assignment[3])  # Monday 03:00
    assert load[rush] > load[night]
    assert plans.timings["X000", rush].cycle >= plans.timings["X000", night].cycle


def test_regime_bands(model_dir, grid_2x2, tmp_path):
    result = advise(
        None, model=model_dir, network=str(grid_2x2), out=str(tmp_path), band_method="regimes"
    )
    assert result.plans.bands.method == "regimes"
    assert all(len(result.plans.bands.day_runs(d)) <= 4 for d in range(7))


def test_bad_input_is_one_line_and_exit_code_2(model_dir, grid_2x2, tmp_path, capsys):
    other = grid_network(tmp_path / "other", ("X100", "X101", "X102", "X103"))
    old = tmp_path / "old_model"
    shutil.copytree(model_dir, old)
    (old / "approaches.json").unlink()
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    out = str(tmp_path / "out")
    base = ["advise", "--model", model_dir, "--network"]
    cases = [
        ([*base, str(other), "--out", out], "signals X100, X101, X102, X103 are not"),
        (
            ["advise", "--model", str(old), "--network", str(grid_2x2), "--out", out],
            "has no per-approach predictions",
        ),
        ([*base, str(grid_2x2), "--out", str(a_file / "sub")], "not writable"),
        ([*base, str(tmp_path / "none.net.xml"), "--out", out], "no such file"),
        ([*base, str(a_file), "--out", out], "not a readable SUMO network"),
        ([*base, str(grid_2x2), "--out", out, "--max-plans-per-day", "0"], "must be >= 1"),
        ([*base, str(grid_2x2), "--out", out, "--start", "March"], "not a date"),
    ]
    for argv, message in cases:
        assert cli_main(argv) == 2, argv
        assert message in _one_error_line(capsys), argv


def test_explain_links_the_plans_page(model_dir, grid_2x2, tmp_path, capsys):
    report = tmp_path / "report"
    argv = ["explain", "--model", model_dir, "--report", str(report)]
    assert cli_main([*argv, "--network", str(grid_2x2)]) == 0
    assert 'href="plans.html"' in (report / "index.html").read_text()
    assert (report / "plans.html").read_text().count("data:image/png;base64,") == 4
    other = grid_network(tmp_path / "other", ("X100", "X101", "X102", "X103"))
    capsys.readouterr()
    assert cli_main([*argv, "--network", str(other)]) == 2
    assert "X100, X101, X102, X103 are not" in _one_error_line(capsys)
