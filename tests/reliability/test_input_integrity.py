"""Nothing lost, nothing read wrong: cut files, short rows, a destructive --overwrite,
two runs generating one city's data, a type only the eval days have, unknown intersections.

The cut events CSV (mid-row and mid-day) and the short row are among the baseline's row
faults (``conftest._inject_row_faults``), so they cost no extra run. Each case asserts
its exit code, its one line (an error, a reject or a summary line) and that no input
was lost or overwritten.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest
import yaml

from deploy import exit_codes
from tests import e2e_support
from tests.components.traffic_example_gen.helpers import read_examples
from tests.reliability import faults, generation_race
from transforms import features

slow = pytest.mark.slow


# --- a cut events CSV, a short row (the baseline run) -----------------------------------


def _rejects(baseline) -> tuple[dict[str, dict], dict]:
    _, rejects, counts = faults.example_gen_outputs(
        baseline["output"], "london", baseline["runs"]["london"]
    )
    faults.assert_accounting(counts)
    return {r["reason"]: r for r in faults.read_reject_records(rejects.uri)}, counts


@slow
def test_a_csv_cut_inside_its_last_row_rejects_that_row_naming_the_file(baseline):
    assert baseline["london_code"] == exit_codes.OK
    path, row, _, cut_line = baseline["injected"]["truncated_row"]
    by_reason, counts = _rejects(baseline)
    assert by_reason["truncated_row"] == {
        "file": str(path),
        "row": row,
        "field": "*",
        "reason": "truncated_row",
        "value": cut_line,  # e.g. ...,1,2 where the file had 28.4: never read as a speed
    }
    assert counts["rejected_truncated_row"] == 1
    assert f"cut last row rejected (truncated_row): {path}" in baseline["london_out"]


@slow
def test_a_short_row_is_rejected_like_any_bad_row_and_the_run_goes_on(baseline):
    assert baseline["london_code"] == exit_codes.OK
    path, row, field, value = baseline["injected"]["wrong_field_count"]
    by_reason, counts = _rejects(baseline)
    got = by_reason["wrong_field_count"]
    assert (got["file"], got["row"], got["field"], got["value"]) == (str(path), row, field, value)
    assert counts["rejected_wrong_field_count"] == 1
    # The rows after it keep their numbers: the non-UTF-8 row appended to the same file.
    non_utf8 = baseline["injected"]["invalid_utf8"]
    assert by_reason["invalid_utf8"]["row"] == non_utf8[1] == faults.row_count(path)


@slow
def test_a_day_cut_in_the_afternoon_is_reported_as_a_likely_truncated_day(baseline):
    assert baseline["london_code"] == exit_codes.OK
    cut = faults.daily_files(baseline["data"])[faults.CUT_DAY]
    lines = [line for line in baseline["london_out"].splitlines() if "likely truncated day" in line]
    assert len(lines) == 1, baseline["london_out"]  # only the cut day, not its neighbours
    assert f"likely truncated day: {cut}: last vehicle at {cut.stem}T14:" in lines[0]
    assert "before midnight while its neighbouring days' last vehicles are" in lines[0]
    # No vehicle of the cut day is labelled across the lost afternoon and evening.
    examples, _, counts = faults.example_gen_outputs(
        baseline["output"], "london", baseline["runs"]["london"]
    )
    end_of_day = datetime.datetime.fromisoformat(f"{cut.stem}T23:59:59+00:00").timestamp()
    cut_day = [
        row
        for split in ("train", "eval")
        for row in read_examples(examples, split)
        if datetime.datetime.fromtimestamp(row[features.TIMESTAMP_UTC], datetime.timezone.utc)
        .date()
        .isoformat()
        == cut.stem
    ]
    assert cut_day
    for row in cut_day:
        assert row[features.TIMESTAMP_UTC] + row[features.SECONDS_TO_NEXT_VEHICLE] < end_of_day
    assert counts["unlabeled_before_gap"] >= 1


@slow
def test_max_missing_hours_fails_a_run_with_a_cut_day_before_running(baseline, tmp_path, capsys):
    before = faults.serving_listing(baseline["output"])
    runs = faults.run_count(baseline["output"], "london")
    raw = yaml.safe_load(baseline["config"].read_text())
    raw["data"]["max_missing_hours"] = 2
    config = tmp_path / "strict-days.yaml"
    config.write_text(yaml.safe_dump(raw))
    data = faults.copy_data(baseline["data"], tmp_path / "data")
    cut = faults.daily_files(data)[faults.CUT_DAY]
    content = {p.name: p.read_bytes() for p in faults.daily_files(data)}
    code = e2e_support.run("london", config, data, baseline["output"])
    assert code == exit_codes.BAD_INPUT
    faults.one_line_error(
        capsys.readouterr().err, f"{cut}: last vehicle at", "data.max_missing_hours=2", "cut"
    )
    assert faults.run_count(baseline["output"], "london") == runs
    assert faults.serving_listing(baseline["output"]) == before
    assert {p.name: p.read_bytes() for p in faults.daily_files(data)} == content


# --- import: a source cut inside a number -----------------------------------------------

HOURS = 240  # 10 days: one rejected row of 2 values stays under the 1% reject limit
LAST = ("35", "14")  # the last row's counts, cut to "1" / "3" by the copy


def _hour(k: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, 16) + datetime.timedelta(hours=k)


def _wide_source(path: Path) -> Path:
    rows = [f"{_hour(k):%Y-%m-%dT%H:%M:%S},{k % 17},{k % 13}" for k in range(HOURS - 1)]
    rows.append(f"{_hour(HOURS - 1):%Y-%m-%dT%H:%M:%S},{LAST[1]},{LAST[0]}")
    path.write_text("time,nb,sb\n" + "\n".join(rows)[:-1])  # cut inside 35: "3"
    return path


def _seattle_source(path: Path) -> Path:
    rows = [f"{_hour(k):%m/%d/%Y %I:%M:%S %p},{k % 17},{k % 13}" for k in range(HOURS - 1)]
    rows.append(f"{_hour(HOURS - 1):%m/%d/%Y %I:%M:%S %p},{LAST[0]},{LAST[1]}")
    path.write_text("Date,Fremont Bridge NB,Fremont Bridge SB\n" + "\n".join(rows)[:-1])
    return path  # cut inside 14: "1"


IMPORTS = {
    "wide-csv": (
        _wide_source,
        [
            "--time-column",
            "time",
            "--timezone",
            "Europe/London",
            "--vehicle-type",
            "car",
            "--direction",
            "nb=N",
            "--direction",
            "sb=S",
            "--intersection",
            "X-1",
        ],
    ),
    "seattle-counter": (_seattle_source, ["--timezone", "Europe/London"]),
}


def _import(source: str, path: Path, out: Path, *extra: str) -> int:
    return e2e_support.cli_main(
        ["import", "--source", source, str(path), "--out", str(out), *IMPORTS[source][1], *extra]
    )


def _imported_counts(out: Path) -> dict[tuple[str, str], int]:
    """{(hour_start, direction): count} of every imported file."""
    got = {}
    for path in sorted(out.glob("2*.csv")):
        for row in csv.DictReader(io.StringIO(path.read_text())):
            got[(row["hour_start"][:13], row["direction"])] = int(row["count"])
    return got


@pytest.mark.parametrize("source", list(IMPORTS))
def test_an_import_source_cut_inside_a_number_rejects_that_row(source, tmp_path, capsys):
    path = IMPORTS[source][0](tmp_path / "export.csv")
    text = path.read_text()
    assert _import(source, path, tmp_path / "out") == exit_codes.OK
    out = capsys.readouterr().out
    rejects = [line for line in out.splitlines() if line.startswith(f"{path}:")]
    assert rejects == [
        f"{path}:{HOURS}: row: truncated_row: the file ends inside this row (no line break "
        "after it), so its last value may be cut"
    ]
    assert f"{2 * (HOURS - 1)} written, 2 rejected, 0 missing" in out
    got = _imported_counts(tmp_path / "out")
    assert len(got) == 2 * (HOURS - 1)  # every complete hour, both directions
    assert not any(stamp.startswith(f"{_hour(HOURS - 1):%Y-%m-%dT%H}") for stamp, _ in got)
    assert got[(f"{_hour(HOURS - 2):%Y-%m-%dT%H}", "N")] == (HOURS - 2) % 17
    assert path.read_text() == text


# --- --overwrite never destroys input ---------------------------------------------------


def _export_folder(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    folder = tmp_path / "exports"
    folder.mkdir()
    source = _wide_source(folder / "export.csv")
    (folder / "notes.txt").write_text("where the counters are\n")
    folder.chmod(0o755)
    return folder, source, {p.name: p.read_text() for p in folder.iterdir()}


def _intact(folder: Path, content: dict[str, str], mode: int = 0o755) -> None:
    assert {p.name: p.read_text() for p in folder.iterdir()} == content
    assert stat.S_IMODE(folder.stat().st_mode) == mode


def test_import_overwrite_into_the_source_folder_is_refused(tmp_path, capsys, monkeypatch):
    folder, source, content = _export_folder(tmp_path)
    monkeypatch.chdir(folder)  # as reported: --out . in the export's folder
    for out in (Path("."), folder, tmp_path):
        assert _import("wide-csv", Path("export.csv"), out, "--overwrite") == exit_codes.BAD_INPUT
        faults.one_line_error(
            capsys.readouterr().err, f"holds {source}, an input of this command", "another --out"
        )
        _intact(folder, content)
    # Not even --overwrite-foreign replaces the source.
    code = _import("wide-csv", source, folder, "--overwrite", "--overwrite-foreign")
    assert code == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, "an input of this command")
    _intact(folder, content)


def test_simulate_overwrite_into_its_networks_folder_is_refused(tmp_path, capsys):
    folder = tmp_path / "plans"
    folder.mkdir()
    net = folder / "city.net.xml"
    net.write_text("<net/>\n")
    content = {p.name: p.read_text() for p in folder.iterdir()}
    argv = ["simulate", "--city", "london", "--network", str(net), "--out", str(folder)]
    code = e2e_support.cli_main([*argv, "--overwrite", "--overwrite-foreign"])
    assert code == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, f"holds {net}, an input of this command")
    assert {p.name: p.read_text() for p in folder.iterdir()} == content


@pytest.mark.parametrize("command", ["import", "generate"])
def test_overwrite_refuses_a_folder_with_files_it_did_not_write(command, tmp_path, capsys):
    source = _wide_source(tmp_path / "export.csv")
    out = tmp_path / "out"

    def write(*extra: str) -> int:
        if command == "import":
            return _import("wide-csv", source, out, *extra)
        argv = ["generate", "--city", "london", "--days", "1", "--intersections", "1"]
        return e2e_support.cli_main([*argv, "--out", str(out), *extra])

    assert write() == exit_codes.OK
    out.chmod(0o750)
    (out / "notes.txt").write_text("mine\n")
    content = {p.name: p.read_text() for p in out.iterdir()}
    capsys.readouterr()
    assert write("--overwrite") == exit_codes.BAD_INPUT
    faults.one_line_error(
        capsys.readouterr().err, "did not write (notes.txt)", "--overwrite-foreign"
    )
    _intact(out, content, mode=0o750)
    (out / "notes.txt").unlink()  # only what the tool wrote: --overwrite replaces it
    assert write("--overwrite") == exit_codes.OK
    assert stat.S_IMODE(out.stat().st_mode) == 0o750  # not 0700
    (out / "notes.txt").write_text("mine\n")
    assert write("--overwrite", "--overwrite-foreign") == exit_codes.OK  # the user said so
    assert not (out / "notes.txt").exists()
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export.csv", "out"]  # no temp dirs


# --- two runs of a city without --data, at once -----------------------------------------


def _generation_config(tmp_path: Path, london_config: Path) -> Path:
    raw = yaml.safe_load(london_config.read_text())
    raw["generator"] = {"days": 14, "intersections": 6}
    config = tmp_path / "london.yaml"
    config.write_text(yaml.safe_dump(raw))
    return config


def test_two_runs_generating_one_citys_data_take_turns(tmp_path, london_config):
    """Two processes ask for the city's data at the same instant (a barrier), as two
    ``run`` s without ``--data`` do; before the lock, one of them failed ('pass
    --overwrite', or a raw 'Directory not empty') in 5 trials of 5."""
    config = _generation_config(tmp_path, london_config)
    output = tmp_path / "output"
    context = multiprocessing.get_context("spawn")  # no TensorFlow state forked
    barrier, results = context.Barrier(2), context.Queue()
    children = [
        context.Process(
            target=generation_race.get_data_at_once,
            args=(barrier, str(config), str(output), results),
        )
        for _ in range(2)
    ]
    for child in children:
        child.start()
    got = sorted(results.get(timeout=120) for _ in children)
    for child in children:
        child.join(timeout=60)
    data = output / "data" / "london"
    assert [kind for kind, _ in got] == ["ok", "ok"], got
    assert got[0][1].startswith("generated ") and got[1][1].startswith("using generated data")
    truth = json.loads((data / "ground_truth.json").read_text())
    assert sorted(p.name for p in data.glob("2*.csv")) == sorted(truth["files"])
    assert sorted(os.listdir(data.parent)) == [".london.generate.lock", "london"]  # no temp dir


@slow
def test_a_data_dir_run_did_not_generate_names_real_options(tmp_path, london_config, capsys):
    config = _generation_config(tmp_path, london_config)
    data = tmp_path / "output" / "data" / "london"
    data.mkdir(parents=True)
    (data / "notes.txt").write_text("mine\n")
    code = e2e_support.cli_main(
        ["run", "--city", "london", "--config", str(config), "--output", str(tmp_path / "output")]
    )
    assert code == exit_codes.BAD_INPUT
    line = faults.one_line_error(
        capsys.readouterr().err, f"{data} holds files but no ground_truth.json", "--data DIR"
    )
    assert "--overwrite" not in line  # run has no such option
    assert [p.name for p in data.iterdir()] == ["notes.txt"]


# --- a vehicle type only the eval days have ---------------------------------------------


@slow
def test_a_type_seen_only_in_the_eval_days_is_named_when_not_blessed(
    tmp_path, frankfurt_data, capsys
):
    data = faults.copy_data(frankfurt_data, tmp_path / "data")
    files = faults.daily_files(data)
    for path in files[:-1]:  # the last day is the eval day (eval_days: 1)
        lines = path.read_bytes().split(b"\n")
        path.write_bytes(b"\n".join(ln for ln in lines if b",bus," not in ln))
    assert b",bus," in files[-1].read_bytes()
    config = faults.write_config(
        tmp_path / "frankfurt.yaml",
        "frankfurt",
        "Europe/Berlin",
        data={"split": {"kind": "time", "eval_days": 1}},
        evaluation={"thresholds": {"mean_absolute_error": {"upper_bound": 0.001}}},
    )
    output = tmp_path / "output"
    code = e2e_support.run("frankfurt", config, data, output, "--train-steps", "5")
    captured = capsys.readouterr()
    assert code == exit_codes.NOT_BLESSED
    faults.one_line_error(
        captured.err,
        "not blessed",
        "mean_absolute_error",
        "vehicle type 'bus' (",
        "seen only in the eval days",
        "nothing was pushed",
    )
    assert "seen only in the eval days" in captured.out  # the summary says it too
    assert faults.serving_listing(output) == {}


# --- predict: an intersection the model never saw ---------------------------------------


def _predict(baseline, intersection: str, *extra: str) -> int:
    return e2e_support.cli_main(
        [
            "predict",
            "--city",
            "london",
            "--output",
            str(baseline["output"]),
            "--direction",
            "N",
            "--intersection",
            intersection,
            "--at",
            "2026-03-24T08:00",
            "--format",
            "csv",
            *extra,
        ]
    )


@slow
@pytest.mark.parametrize("asked", ["ldn-0001", "LDN-0009", "NOWHERE"])
def test_predict_for_an_unknown_intersection_is_an_error_naming_it(baseline, capsys, asked):
    before = faults.serving_listing(baseline["output"])
    assert _predict(baseline, asked) == exit_codes.BAD_INPUT
    captured = capsys.readouterr()
    line = faults.one_line_error(
        captured.err, f"--intersection {asked!r} was not seen in training", "--allow-unseen"
    )
    if asked != "NOWHERE":
        assert "did you mean " in line and "LDN-0001" in line.split("did you mean ")[1]
    assert captured.out == ""  # no numbers
    assert faults.serving_listing(baseline["output"]) == before


@slow
def test_predict_allow_unseen_marks_the_unseen_rows(baseline, capsys):
    assert _predict(baseline, "ldn-0001", "--allow-unseen") == exit_codes.OK
    captured = capsys.readouterr()
    assert "was not seen in training" in captured.err and "Traceback" not in captured.err
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["intersection_id"] for r in rows] == ["ldn-0001"]
    assert rows[0]["seen_in_training"] == "False"
    assert _predict(baseline, "LDN-0001", "--allow-unseen") == exit_codes.OK
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[0]["seen_in_training"] == "True"
