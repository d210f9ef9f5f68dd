"""explain --ground-truth / --observed per approach, and bench_accuracy, on a real counts
model (tests/transforms' counts fixture) with daily files drawn from its true profile."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from benchmarks import bench_accuracy
from deploy.cli import main as cli_main
from tests.deploy.insights.accuracy_data import write_counts, write_truth
from tests.transforms.conftest import COUNT_APPROACHES, true_rate, true_shares

TYPES = (0, 1, 2, 3)
WINTER_MONDAY = date(2026, 1, 5)  # London = UTC: the fixture's local hours


def true_mean(intersection: str, direction: str, t: int, day: int, hour: int) -> float:
    """The counts fixture's profile: the same at every approach."""
    return 3600.0 * true_rate(day, hour) * true_shares(day)[t]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of hourly counts and the ground_truth.json they were drawn from."""
    out = tmp_path_factory.mktemp("counts_data")
    write_counts(out, WINTER_MONDAY, 21, "Europe/London", true_mean, list(COUNT_APPROACHES), TYPES)
    write_truth(out / "ground_truth.json", true_mean, list(COUNT_APPROACHES), TYPES)
    return out


def test_bench_accuracy_scores_the_model_between_the_baselines_and_the_truth(
    counts_model, data_dir, capsys
):
    model_dir = counts_model.fn_args.serving_model_dir
    assert bench_accuracy.main(["--data", str(data_dir), "--model-dir", model_dir]) == 0
    out = capsys.readouterr().out
    predictors = out.split("by local day of week")[0]  # the by-day table follows
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:6]]
        for line in predictors.splitlines()
        if line.startswith("| ") and "predictor" not in line
    }
    assert list(rows) == [
        "model",
        "historical average",
        "same hour last week",
        "day-class average",
        "truth (limit)",
    ]
    assert "4 approaches" in out and "2688 cells" in out  # 4 x 4 types x 168 hours
    nll = {k: float(v[0]) for k, v in rows.items()}
    error = {k: float(v[2].rstrip("%")) / 100 for k, v in rows.items()}
    assert error["truth (limit)"] == 0.0
    assert nll["truth (limit)"] < min(v for k, v in nll.items() if k != "truth (limit)")
    # The model learned this one profile from two other weeks: close to the truth, and
    # better than last week's counts.
    assert error["model"] < 0.2, out
    assert nll["model"] < nll["same hour last week"], out


def test_explain_scores_each_approach_against_the_truth(counts_model, data_dir, tmp_path, capsys):
    model_dir = counts_model.fn_args.serving_model_dir
    report = tmp_path / "report"
    argv = ["explain", "--model", model_dir, "--report", str(report)]
    assert cli_main([*argv, "--ground-truth", str(data_dir / "ground_truth.json")]) == 0
    printed = capsys.readouterr().out
    assert "per approach vs ground truth, model: rate error" in printed
    assert "per approach vs ground truth, historical average: rate error" in printed
    acc = json.loads((report / "summary.json").read_text())["approach_accuracy"]
    model, hist = acc["scores"]["model"], acc["scores"]["historical average"]
    assert model["cells"] == 4 * 4 * 168
    assert 0 < model["rate_error"] < 0.2 and 0 < hist["rate_error"] < 0.2
    assert [r["why"] for r in acc["shown"]] == ["busiest", "busiest"] + ["worst predicted"] * 2
    assert {(r["intersection_id"], r["direction"]) for r in acc["shown"]} == set(COUNT_APPROACHES)
    page = (report / "index.html").read_text()
    assert "Per approach, against the ground truth" in page
    assert 'alt="per-approach weekly profiles"' in page


def test_explain_observed_scores_the_last_eval_days(counts_model, data_dir, tmp_path, capsys):
    model_dir = counts_model.fn_args.serving_model_dir
    report = tmp_path / "report"
    argv = ["explain", "--model", model_dir, "--report", str(report)]
    assert cli_main([*argv, "--observed", str(data_dir), "--eval-days", "7"]) == 0
    assert "per approach vs observed counts, model: Poisson NLL" in capsys.readouterr().out
    acc = json.loads((report / "summary.json").read_text())["approach_accuracy"]
    assert acc["eval_from"] == 20260119
    model, hist = acc["scores"]["model"], acc["scores"]["historical average"]
    assert model["cells"] == 4 * 4 * 168 and model["rate_error"] is None
    assert model["nll"] < hist["nll"] + 0.2  # the model is about as good as the table
    assert "Per approach, against the observed counts" in (report / "index.html").read_text()


def test_explain_observed_on_a_missing_dir_is_one_line_and_exit_code_2(
    counts_model, tmp_path, capsys
):
    model_dir = counts_model.fn_args.serving_model_dir
    argv = ["explain", "--model", model_dir, "--report", str(tmp_path / "r")]
    assert cli_main([*argv, "--observed", str(tmp_path / "nothing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--observed" in err[0] and "not a directory" in err[0]


def test_bench_accuracy_by_day_shows_the_train_days_level_a_model_inherits(
    counts_model, tmp_path, capsys
):
    """Counts whose Fridays carry half the truth's traffic: the by-day table names
    Friday's train days as 50% low and the other days as level."""
    friday = 4

    def observed_mean(i: str, d: str, t: int, day: int, hour: int) -> float:
        return true_mean(i, d, t, day, hour) * (0.5 if day == friday else 1.0)

    data = tmp_path / "halved_fridays"
    write_counts(
        data, WINTER_MONDAY, 21, "Europe/London", observed_mean, list(COUNT_APPROACHES), TYPES
    )
    write_truth(data / "ground_truth.json", true_mean, list(COUNT_APPROACHES), TYPES)
    model_dir = counts_model.fn_args.serving_model_dir
    assert bench_accuracy.main(["--data", str(data), "--model-dir", model_dir]) == 0
    out = capsys.readouterr().out
    table = out.split("by local day of week")[1]
    rows = {
        line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:6]]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith("| day")
    }
    assert list(rows) == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], out
    train_level = {day: float(v[3].rstrip("%")) / 100 for day, v in rows.items()}
    assert abs(train_level["Fri"] + 0.5) < 0.03, out
    assert all(abs(v) < 0.05 for day, v in train_level.items() if day != "Fri"), out
    busy_total = int(out.split(" busy (")[0].rsplit(" ", 1)[1])
    assert sum(int(v[0]) for v in rows.values()) == busy_total, out
    assert all(float(v[1]) >= 0 for v in rows.values()), out  # an excess over the truth
