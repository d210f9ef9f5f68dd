"""``predict`` and ``explain`` on bad input: a corrupt or truncated model, an unwritable
``--report``, a count out of range. Each is exit 2 with one line naming what is wrong;
the model dir is left as it was.

The models are copies of the baseline's pushed London model, damaged one way each.
"""

from __future__ import annotations

import shutil

import pytest

from deploy import exit_codes
from tests import e2e_support
from tests.reliability import faults

pytestmark = pytest.mark.slow


def _model_copy(baseline, target):
    base = baseline["layout"].serving_base("london")
    latest = max((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    return shutil.copytree(latest, target)


def _truncated_variables(model):
    data = next((model / "variables").glob("variables.data-*"))
    data.write_bytes(data.read_bytes()[:64])


def _truncated_saved_model(model):
    pb = model / "saved_model.pb"
    pb.write_bytes(pb.read_bytes()[:1000])


def _files(path):
    return {p.relative_to(path): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(
    ("command", "damage"),
    [
        ("predict", _truncated_variables),
        ("predict", _truncated_saved_model),
        ("explain", _truncated_saved_model),
    ],
    ids=["predict-variables", "predict-saved-model", "explain-saved-model"],
)
def test_a_truncated_model_names_its_dir_and_exits_2(baseline, tmp_path, capsys, command, damage):
    model = _model_copy(baseline, tmp_path / "model")
    damage(model)
    files = _files(model)
    argv = [command, "--model", str(model)]
    argv += ["--week"] if command == "predict" else ["--report", str(tmp_path / "report")]
    assert e2e_support.cli_main(argv) == exit_codes.BAD_INPUT
    line = faults.one_line_error(capsys.readouterr().err, "corrupt or truncated model")
    assert line.startswith(f"error: {model}: ")
    assert _files(model) == files  # nothing changed, nothing lost


def _explain(baseline, *extra: str) -> list[str]:
    return [
        "explain", "--city", "london", "--output", str(baseline["output"]), *extra,
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (("--regimes", "0"), ("argument --regimes: 0 must be 1..168",)),
        (("--regimes", "500"), ("argument --regimes: 500 must be 1..168",)),
        (("--neighbours", "0"), ("argument --neighbours: 0 must be 1..167",)),
    ],
    ids=["regimes-0", "regimes-500", "neighbours-0"],
)
def test_explain_counts_out_of_range_exit_2(baseline, tmp_path, capsys, extra, needles):
    argv = _explain(baseline, "--report", str(tmp_path / "report"), *extra)
    with pytest.raises(SystemExit) as exit_info:
        e2e_support.cli_main(argv)
    assert exit_info.value.code == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, *needles)
    assert not (tmp_path / "report").exists()


def test_explain_to_an_unwritable_report_exits_2(baseline, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    report = blocker / "report"  # under a regular file: can never be created
    assert e2e_support.cli_main(_explain(baseline, "--report", str(report))) == (
        exit_codes.BAD_INPUT
    )
    faults.one_line_error(capsys.readouterr().err, f"--report {report}: not writable")
    assert blocker.read_text() == "mine"


def test_predict_hours_out_of_range_exits_2(baseline, capsys):
    argv = ["predict", "--city", "london", "--output", str(baseline["output"]), "--week"]
    with pytest.raises(SystemExit) as exit_info:
        e2e_support.cli_main([*argv, "--hours", "0"])
    assert exit_info.value.code == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, "argument --hours: 0 must be >= 1")
