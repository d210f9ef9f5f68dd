"""Bad usage, config and input found before running: exit code 2, one line, nothing run.

No pipeline runs here (fast): each case must be refused before any component starts,
so the output dir gets no ML Metadata run and no ``serving/``.
"""

from __future__ import annotations

import gzip

import pandas as pd
import pytest
import yaml

from deploy import exit_codes
from tests import e2e_support
from tests.reliability import faults


def _refused(capsys, output, *needles: str) -> str:
    err = capsys.readouterr().err
    line = faults.one_line_error(err, *needles)
    assert faults.run_count(output, "london") == 0
    assert faults.serving_listing(output) == {}
    return line


def _run(config, data, output, *extra: str) -> int:
    return e2e_support.run("london", config, data, output, *extra)


@pytest.mark.parametrize(
    ("steps", "message"), [("-5", "-5 must be >= 1"), ("0", "0 must be >= 1"), ("x", "'x'")]
)
def test_train_steps_must_be_a_positive_integer(
    london_config, london_data, tmp_path, capsys, steps, message
):
    with pytest.raises(SystemExit) as exit_info:
        _run(london_config, london_data, tmp_path / "out", "--train-steps", steps)
    assert exit_info.value.code == exit_codes.BAD_INPUT
    _refused(capsys, tmp_path / "out", "--train-steps", message)


def _config_with(tmp_path, london_config, change) -> str:
    raw = yaml.safe_load(london_config.read_text())
    change(raw)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("change", "needles"),
    [
        (
            lambda c: c["training"].update(train_steps="lots"),
            ("training.train_steps must be an integer", "'lots'"),
        ),
        (
            lambda c: c["data"].update(max_reject_fraction="1%"),
            ("data.max_reject_fraction must be a number",),
        ),
        (
            lambda c: c.update(city="frankfurt", timezone="Europe/Berlin"),
            ("city 'frankfurt' does not match --city 'london'",),
        ),
        (
            lambda c: c["evaluation"].update(thresholds={}),
            ("evaluation.thresholds sets no bound", "could ever be blessed"),
        ),
        (lambda c: c.update(unknown_key=1), ("unknown key 'unknown_key'",)),
    ],
    ids=["yaml-type", "yaml-number", "city-mismatch", "no-thresholds", "unknown-key"],
)
def test_bad_config_is_refused_naming_file_and_key(
    london_config, london_data, tmp_path, capsys, change, needles
):
    config = _config_with(tmp_path, london_config, change)
    assert _run(config, london_data, tmp_path / "out") == exit_codes.BAD_INPUT
    _refused(capsys, tmp_path / "out", str(config), *needles)


def test_unwritable_output_is_one_line(london_config, london_data, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    output = blocker / "output"  # a path under a regular file can never be created
    assert _run(london_config, london_data, output) == exit_codes.BAD_INPUT
    line = faults.one_line_error(capsys.readouterr().err, "--output", "not writable")
    assert str(output) in line


def _bad_copy(london_data, tmp_path, damage) -> tuple:
    data = faults.copy_data(london_data, tmp_path / "data")
    named = damage(faults.daily_files(data))
    return data, named


def _zero_bytes(files):
    files[1].write_bytes(b"")
    return files[1]


def _missing_column(files):
    frame = pd.read_csv(files[2], dtype=str)
    frame.drop(columns=["direction"]).to_csv(files[2], index=False)
    return files[2]


def _duplicated_day(files):
    twin = files[3].with_name(files[3].name + ".gz")
    twin.write_bytes(gzip.compress(files[3].read_bytes()))
    return twin.name


def _naive_parquet(files):
    for path in files:
        frame = pd.read_csv(path, dtype=str)
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True).dt.tz_localize(None)
        frame.to_parquet(path.with_suffix(".parquet"), index=False)
        path.unlink()
    return files[0].with_suffix(".parquet")


def _only_one_day_with_rows(files):
    for path in files[1:]:
        path.write_bytes(path.read_bytes().split(b"\n")[0] + b"\n")
    return "header-only files do not count"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (_zero_bytes, "empty file (0 bytes"),
        (_missing_column, "required column 'direction' is missing"),
        (_duplicated_day, "two input files for"),
        (_naive_parquet, "is a timestamp without a time zone"),
        (_only_one_day_with_rows, "needs at least 2 days with data rows, got 1"),
    ],
    ids=["zero-byte-file", "missing-column", "duplicated-day", "naive-parquet", "empty-days"],
)
def test_unusable_input_file_is_named_before_running(
    london_config, london_data, tmp_path, capsys, damage, message
):
    data, named = _bad_copy(london_data, tmp_path, damage)
    assert _run(london_config, data, tmp_path / "out") == exit_codes.BAD_INPUT
    _refused(capsys, tmp_path / "out", str(named), message)


def test_missing_data_dir_and_unknown_city(london_config, tmp_path, capsys):
    assert _run(london_config, tmp_path / "nowhere", tmp_path / "out") == exit_codes.BAD_INPUT
    _refused(capsys, tmp_path / "out", "--data", "no such directory")
    code = e2e_support.cli_main(["run", "--city", "atlantis", "--output", str(tmp_path / "o")])
    assert code == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, "no built-in config for city 'atlantis'")


@pytest.mark.parametrize(
    "command", ["generate", "simulate", "import", "run", "lineage", "compile", "submit"]
)
def test_help_states_the_exit_code_contract(capsys, command):
    with pytest.raises(SystemExit) as exit_info:
        e2e_support.cli_main([command, "--help"])
    assert exit_info.value.code == exit_codes.OK
    out = " ".join(capsys.readouterr().out.split())
    assert exit_codes.HELP in out


def test_an_unexpected_error_is_one_line_with_its_traceback_in_a_log(tmp_path, capsys):
    (tmp_path / "metadata.sqlite").write_text("not a database")
    code = e2e_support.cli_main(["lineage", "--city", "london", "--output", str(tmp_path)])
    assert code == exit_codes.COMPONENT_FAILED
    err = capsys.readouterr().err
    faults.one_line_error(err, "lineage: RuntimeError", with_log=True)
    assert f"full log: {tmp_path / 'pipelines' / 'london' / 'logs'}/cli-" in err
