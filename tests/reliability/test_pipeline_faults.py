"""Faults that need a pipeline run: row rejects, unreadable files, the gate, donors.

All cases share the session's ``baseline`` output dir (London with row faults, run
at the same time as Frankfurt). Each failing case asserts its exit code, a one-line
error and that ``serving/`` is unchanged.
"""

from __future__ import annotations

import datetime
import gzip
import json
import shutil
import zoneinfo

import pytest
import yaml
from ml_metadata.proto import metadata_store_pb2

from deploy import exit_codes
from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from tests import e2e_support
from tests.components.traffic_example_gen.helpers import read_examples
from tests.reliability import faults
from transforms import features

pytestmark = pytest.mark.slow


def _no_execution_left_running(output) -> None:
    store = metadata.open_store(output / "metadata.sqlite")
    states = {
        metadata_store_pb2.Execution.State.Name(e.last_known_state) for e in store.get_executions()
    }
    assert "RUNNING" not in states and "NEW" not in states, states


def test_two_cities_at_once_on_one_output_both_complete(baseline):
    assert baseline["london_code"] == exit_codes.OK
    assert baseline["frankfurt_code"] == exit_codes.OK, baseline["frankfurt_log"]
    served = faults.serving_listing(baseline["output"])
    assert set(served) == {"london", "frankfurt"}
    for city in ("london", "frankfurt"):
        assert faults.run_count(baseline["output"], city) >= 1
        _, nodes = faults.latest_run(baseline["output"], city, baseline["runs"][city])
        assert nodes[wiring.PUSHER].state == "COMPLETE"
    _no_execution_left_running(baseline["output"])


def test_row_faults_are_rejected_with_reason_and_accounted(baseline):
    _, rejects, counts = faults.example_gen_outputs(
        baseline["output"], "london", baseline["runs"]["london"]
    )
    got = {
        r["reason"]: (r["file"], r["row"], r["field"], r["value"])
        for r in faults.read_reject_records(rejects.uri)
    }
    assert set(got) == set(baseline["injected"])
    for reason, (path, row, field, value) in baseline["injected"].items():
        assert got[reason][:3] == (str(path), row, field), reason
        if value is not None:
            assert got[reason][3] == value
    assert counts["rejected_total"] == len(baseline["injected"])
    for reason in baseline["injected"]:
        assert counts[f"rejected_{reason}"] == 1
    faults.assert_accounting(counts)


def _examples(baseline):
    examples, _, _ = faults.example_gen_outputs(
        baseline["output"], "london", baseline["runs"]["london"]
    )
    return {split: read_examples(examples, split) for split in ("train", "eval")}


def test_no_label_is_longer_than_the_data_span(baseline):
    rows = [r for split in _examples(baseline).values() for r in split]
    stamps = [r[features.TIMESTAMP_UTC] for r in rows]
    labels = [r[features.SECONDS_TO_NEXT_VEHICLE] for r in rows]
    assert max(labels) <= max(stamps) - min(stamps) + 1
    assert max(labels) <= features.MAX_HEADWAY_SECONDS


def test_an_empty_day_does_not_take_an_eval_day(baseline):
    london = zoneinfo.ZoneInfo("Europe/London")
    eval_days = {
        datetime.datetime.fromtimestamp(r[features.TIMESTAMP_UTC], london).date().isoformat()
        for r in _examples(baseline)["eval"]
    }
    data_days = [p.stem for p in faults.daily_files(baseline["data"]) if faults.row_count(p)]
    assert eval_days == set(data_days[-2:])  # the config's eval_days: 2


def _failed_run(baseline, tmp_path, capsys, damage, code, *needles):
    before = faults.serving_listing(baseline["output"])
    runs = faults.run_count(baseline["output"], "london")
    data = faults.copy_data(baseline["data"], tmp_path / "data")
    damage(faults.daily_files(data))
    got = e2e_support.run("london", baseline["config"], data, baseline["output"])
    line = faults.one_line_error(
        capsys.readouterr().err, *needles, with_log=code == exit_codes.COMPONENT_FAILED
    )
    assert got == code, line
    assert faults.serving_listing(baseline["output"]) == before
    ran = faults.run_count(baseline["output"], "london") - runs
    assert ran == (1 if code == exit_codes.COMPONENT_FAILED else 0)
    return data, line


def _truncated_gzip(files, keep: float, copies: int = 1) -> str:
    """Replaces day 3 by a .csv.gz of ``copies`` x its rows, cut to ``keep`` of its bytes."""
    text = files[2].read_bytes()
    header, rows = text.split(b"\n", 1)
    packed = gzip.compress(header + b"\n" + rows * copies)
    target = files[2].with_name(files[2].name + ".gz")
    target.write_bytes(packed[: int(len(packed) * keep)])
    files[2].unlink()
    return str(target)


def test_gzip_truncated_near_its_start_is_refused_before_running(baseline, tmp_path, capsys):
    data, line = _failed_run(
        baseline,
        tmp_path,
        capsys,
        lambda files: _truncated_gzip(files, keep=0.3),
        exit_codes.BAD_INPUT,
        "cannot read",
        "Truncated compressed stream",
    )
    assert f"{data}/{faults.daily_files(data)[2].name}: " in line


def test_gzip_truncated_later_fails_at_example_gen_naming_the_file(baseline, tmp_path, capsys):
    data, line = _failed_run(
        baseline,
        tmp_path,
        capsys,
        lambda files: _truncated_gzip(files, keep=0.8, copies=6),
        exit_codes.COMPONENT_FAILED,
        f"FAILED at {wiring.EXAMPLE_GEN}: InputFileError",
        "cannot read",
    )
    assert f"{data}/{faults.daily_files(data)[2].name}: " in line


def test_too_many_rejects_fail_naming_the_worst_file(baseline, tmp_path, capsys):
    def trams(files):
        day = files[1].stem
        rows = [f"{day}T09:{m:02d}:00+00:00,LDN-0001,N,tram,1,20.0".encode() for m in range(60)]
        faults.append_rows(files[1], *(rows * 2))

    data, line = _failed_run(
        baseline,
        tmp_path,
        capsys,
        trams,
        exit_codes.COMPONENT_FAILED,
        f"FAILED at {wiring.EXAMPLE_GEN}",
        "max_reject_fraction",
    )
    assert f"Worst file: {faults.daily_files(data)[1]}" in line and "unknown_vehicle_type" in line


def test_a_model_that_fails_the_gate_is_not_pushed_and_exits_3(baseline, tmp_path, capsys):
    before = faults.serving_listing(baseline["output"])
    raw = yaml.safe_load(baseline["config"].read_text())
    raw["evaluation"] = {"thresholds": {"mean_absolute_error": {"upper_bound": 0.001}}}
    strict = tmp_path / "strict.yaml"
    strict.write_text(yaml.safe_dump(raw))
    code = e2e_support.run("london", strict, baseline["data"], baseline["output"])
    captured = capsys.readouterr()
    assert code == exit_codes.NOT_BLESSED
    faults.one_line_error(captured.err, "not blessed", "mean_absolute_error", "nothing was pushed")
    assert "NOT blessed" in captured.out
    assert faults.serving_listing(baseline["output"]) == before
    store, nodes = faults.latest_run(baseline["output"], "london")
    pushed = metadata.outputs_of(store, nodes[wiring.PUSHER].execution.id, "pushed_model")[0]
    assert metadata.custom_properties(pushed)["pushed"] == 0


def _donor_copy(baseline, tmp_path):
    base = baseline["layout"].serving_base("london")
    latest = max((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    return shutil.copytree(latest, tmp_path / "donor")


def _spec_with_other_dim(donor):
    path = donor / features.EMBEDDING_SPEC_FILE
    spec = json.loads(path.read_text())
    spec["embedding_dim"] += 1
    path.write_text(json.dumps(spec))
    return ("embedding_dim",)


def _truncated_variables(donor):
    data = next((donor / "variables").glob("variables.data-*"))
    data.write_bytes(data.read_bytes()[:64])
    return ("corrupt", str(donor))


@pytest.mark.parametrize(
    "damage", [_spec_with_other_dim, _truncated_variables], ids=["mismatch", "corrupt"]
)
def test_bad_donor_is_a_warm_start_error_before_running(baseline, tmp_path, capsys, damage):
    before = faults.serving_listing(baseline["output"])
    runs = faults.run_count(baseline["output"], "london")
    donor = _donor_copy(baseline, tmp_path)
    needles = damage(donor)
    code = e2e_support.run(
        "london", baseline["config"], baseline["data"], baseline["output"],
        "--warm-start-from", str(donor), "--warm-start-mode", "frozen",
    )  # fmt: skip
    assert code == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, "WarmStartError", *needles)
    assert faults.run_count(baseline["output"], "london") == runs
    assert faults.serving_listing(baseline["output"]) == before


def test_a_small_city_run_leaves_nothing_in_tmpdir(baseline):
    # Frankfurt (4 days x 1 intersection) ran as a subprocess with a fresh TMPDIR: TFX
    # used to leave four ~50 MB tfx_ephemeral sdist dirs there, one per Beam component.
    assert baseline["frankfurt_code"] == exit_codes.OK, baseline["frankfurt_log"]
    assert baseline["frankfurt_tmpdir_before"] == []
    assert baseline["frankfurt_tmpdir_after"] == []
    run_tmp = baseline["layout"].tmp_dir("frankfurt")  # the run's own, under its output
    assert not run_tmp.exists() or list(run_tmp.iterdir()) == []
