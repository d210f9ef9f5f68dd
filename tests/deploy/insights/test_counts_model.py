"""predict and explain on a model trained from hourly counts (same outputs as events)."""

from __future__ import annotations

import csv
import io

from deploy.cli import main as cli_main
from tests.deploy.insights.test_cli import HEADER_WEEK


def test_predict_and_explain_a_counts_model(counts_model, tmp_path, capsys):
    model_dir = counts_model.fn_args.serving_model_dir
    assert cli_main(["predict", "--model", model_dir, "--week", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert ",".join(rows[0]) == HEADER_WEEK
    assert len(rows) == 4 * 168  # every approach of approaches.json, every day-hour cell
    rush = next(r for r in rows if (r["day_of_week"], r["hour"]) == ("1", "8"))
    night = next(r for r in rows if (r["day_of_week"], r["hour"]) == ("1", "3"))
    assert float(rush["total"]) > 3 * float(night["total"])
    assert float(rush["seconds_to_next_vehicle"]) < float(night["seconds_to_next_vehicle"])

    report = tmp_path / "report"
    assert cli_main(["explain", "--model", model_dir, "--report", str(report)]) == 0
    assert (report / "index.html").stat().st_size > 0
