"""Hourly counts end to end: a Socrata counter export -> ``import`` -> a ``kind: counts`` run.

The export is written here in Seattle's Fremont Bridge layout (local ``Date`` column,
one column per sidewalk plus a total), drawn from a known day x hour profile. The run
uses the default (counts) gate, so the model must beat the constant-count baseline to
be pushed. A counts-trained model then warm-starts an events city (frozen): the
events model's day x hour table must be the counts donor's, bit for bit.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
import yaml

from deploy import cli, exit_codes
from deploy.mlmd import metadata
from deploy.runners.local.runner import LocalLayout
from pipeline import pipeline as wiring
from tests import e2e_support
from tests.reliability import faults
from transforms import features

pytestmark = pytest.mark.slow

CITY = "seattle"
TIMEZONE = "America/Los_Angeles"
TOTAL = "Fremont Bridge Sidewalks, south of N 34th St"
EAST = f"{TOTAL} Cyclist East Sidewalk"
WEST = f"{TOTAL} Cyclist West Sidewalk"
FIRST_DAY = date(2019, 4, 1)  # a Monday, no DST change in the span
DAYS = 21
EVAL_DAYS = 7


def bicycles_per_hour(day: int, hour: int, eastbound: bool) -> float:
    """A commuter counter: weekday peaks (east in the morning, west in the evening),
    flat weekend afternoons, quiet nights."""
    if day < 5:
        peak_hour = 8 if eastbound else 17
        other_hour = 17 if eastbound else 8
        rate = (
            4
            + 120 * np.exp(-((hour - peak_hour) ** 2) / 2)
            + 40 * np.exp(-((hour - other_hour) ** 2) / 2)
        )
    else:
        rate = 3 + 50 * np.exp(-((hour - 14) ** 2) / 10)
    return float(rate if 6 <= hour <= 22 else rate / 4)


def write_export(path: Path, seed: int = 3) -> int:
    """The Socrata CSV (``MM/DD/YYYY hh:mm:ss AM`` local times); returns the bicycles."""
    rng = np.random.default_rng(seed)
    start = datetime.combine(FIRST_DAY, datetime.min.time())
    total = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Date", TOTAL, EAST, WEST])
        for k in range(DAYS * 24):
            local = start + timedelta(hours=k)
            east = int(rng.poisson(bicycles_per_hour(local.weekday(), local.hour, True)))
            west = int(rng.poisson(bicycles_per_hour(local.weekday(), local.hour, False)))
            writer.writerow([local.strftime("%m/%d/%Y %I:%M:%S %p"), east + west, east, west])
            total += east + west
    return total


def _table(model_dir: str) -> np.ndarray:
    reader = tf.train.load_checkpoint(os.path.join(model_dir, "variables", "variables"))
    return reader.get_tensor(features.EMBEDDING_CHECKPOINT_KEY)


def _pushed(layout: LocalLayout, city: str) -> list[Path]:
    base = layout.serving_base(city)
    return sorted(base.iterdir(), key=lambda p: int(p.name)) if base.is_dir() else []


@pytest.fixture(scope="module")
def seattle(tmp_path_factory):
    root = tmp_path_factory.mktemp("counts")
    export = root / "fremont.csv"
    bicycles = write_export(export)
    data = root / "data"
    assert cli.main(["import", "--source", "seattle-counter", str(export), "--out", str(data)]) == 0
    config = root / "seattle.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "city": CITY,
                "timezone": TIMEZONE,
                "data": {"kind": "counts", "split": {"kind": "time", "eval_days": EVAL_DAYS}},
                "training": {"train_steps": 1500, "eval_steps": 20, "batch_size": 128},
                # no evaluation section: the default counts gate
            }
        )
    )
    output = root / "output"
    code = e2e_support.run(CITY, config, data, output)
    return {
        "code": code,
        "output": output,
        "layout": LocalLayout(output),
        "bicycles": bicycles,
        "data": data,
        "config": config,
    }


def test_imported_counts_run_to_a_blessed_pushed_model_with_the_default_gate(seattle):
    assert seattle["code"] == 0
    pushed = _pushed(seattle["layout"], CITY)
    assert len(pushed) == 1
    spec = json.loads((pushed[0] / features.EMBEDDING_SPEC_FILE).read_text())
    assert spec["data_kind"] == features.DATA_KIND_COUNTS

    store = metadata.open_store(seattle["layout"].metadata_location)
    execution = metadata.latest_execution_of(store, wiring.pipeline_name(CITY), wiring.EXAMPLE_GEN)
    examples = metadata.outputs_of(store, execution.id, "examples")[0]
    props = metadata.custom_properties(examples)
    hours = DAYS * 24
    # one example per hour and sidewalk; every bicycle of the export is counted
    assert props["rows_read"] == 2 * hours
    assert props["examples_train"] == 2 * (DAYS - EVAL_DAYS) * 24
    assert props["examples_eval"] == 2 * EVAL_DAYS * 24
    assert props["rejected_total"] == 0
    assert props["vehicles_counted"] == seattle["bicycles"]


def test_counts_model_predicts_the_day_hour_profile(seattle):
    from deploy.insights.predictions import predict

    model = _pushed(seattle["layout"], CITY)[0]
    week = predict(model=str(model), intersection="all", direction="all", week=True)
    bicycles = week.pivot_table(
        index=["day_of_week", "hour"], columns="direction", values="bicycle"
    )
    # a bicycle counter's model predicts no other vehicles (never guessed untrained shares)
    assert (week[["car", "truck", "bus"]].to_numpy() == 0).all()
    np.testing.assert_allclose(week["total"], week["bicycle"], rtol=1e-6)
    both = bicycles.sum(axis=1)  # per (day, hour), both sidewalks
    tuesday, sunday = both.loc[1], both.loc[6]
    # the weekday commuting peaks, quiet nights, and a weekend afternoon instead
    assert tuesday.loc[0:12].idxmax() in (7, 8, 9)
    assert tuesday.loc[12:23].idxmax() in (16, 17, 18)
    assert min(tuesday.loc[8], tuesday.loc[17]) > 5 * tuesday.loc[3]
    assert sunday.idxmax() in (12, 13, 14, 15, 16)
    assert sunday.loc[8] < tuesday.loc[8] / 3


def test_a_counts_donor_warm_starts_an_events_city_frozen(seattle, tmp_path):
    donor = _pushed(seattle["layout"], CITY)[0]
    data = e2e_support.generate("london", tmp_path / "data")
    config = e2e_support.write_config(tmp_path / "london.yaml", "london", "Europe/London")
    output = tmp_path / "output"
    code = e2e_support.run(
        "london",
        config,
        data,
        output,
        "--warm-start-from",
        str(donor),
        "--warm-start-mode",
        "frozen",
    )
    assert code == 0
    london = _pushed(LocalLayout(output), "london")[0]
    record = json.loads((london / features.WARM_START_FILE).read_text())
    assert record["mode"] == "frozen" and record["donor_city"] == CITY
    np.testing.assert_array_equal(_table(str(london)), _table(str(donor)))
    spec = json.loads((london / features.EMBEDDING_SPEC_FILE).read_text())
    assert spec["data_kind"] == features.DATA_KIND_EVENTS


def test_bad_counts_above_the_reject_limit_fail_naming_the_file(seattle, tmp_path, capsys):
    data = shutil.copytree(seattle["data"], tmp_path / "data")
    day = sorted(data.iterdir())[3]
    hour_start = faults.data_line(day, 1).decode().split(",", 1)[0]
    # 30 rows with a negative count (at 30 new sites, so none is a duplicate): above 1%
    # of the 1,038 rows, all in one file
    faults.append_rows(day, *(f"{hour_start},site-{k},E,bicycle,-2".encode() for k in range(30)))
    capsys.readouterr()
    code = e2e_support.run(CITY, seattle["config"], data, tmp_path / "output")
    line = faults.one_line_error(
        capsys.readouterr().err,
        f"FAILED at {wiring.EXAMPLE_GEN}",
        "max_reject_fraction",
        f"Worst file: {day}",
        "invalid_count",
        with_log=True,
    )
    assert code == exit_codes.COMPONENT_FAILED, line
