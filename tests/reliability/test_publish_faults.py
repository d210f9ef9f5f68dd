"""A full disk during the Pusher publishes nothing; a re-run publishes the model once.

Every case runs on the session's ``baseline`` output with other train steps than the
baseline (so the Trainer, Evaluator and Pusher run again, the rest is cached), with a
small tmpfs mounted (CI runs as root) where the disk is to be full:

1. ``serving/london``: the Pusher's staging copy fails.
2. the Pusher's own output dir (its archive copy of the model, which the old Pusher
   wrote after publishing) and the run's log dir, filled up.
3. nothing full: the re-run's Pusher publishes one version.
4. a re-evaluated (same) model: the Pusher records that version, publishes nothing.

Each run's ``TMPDIR`` is a fresh dir: nothing may be left in it, nor in the run's own
temp dir under the output.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile

import pytest
import yaml

from components.atomic_pusher import executor as pusher
from deploy import exit_codes
from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from tests import e2e_support
from tests.reliability import faults

pytestmark = pytest.mark.slow
STEPS = ("--train-steps", str(faults.TRAIN_STEPS + 1))  # not the baseline's: a new model
DISK_FULL = "No space left on device"


def _run(baseline, root, config=None) -> dict:
    """One in-process run on the baseline output with a fresh, empty ``TMPDIR`` (for this
    process and those it starts); its exit code, stdout, stderr and that ``TMPDIR``."""
    tmpdir = root / "TMPDIR"
    tmpdir.mkdir(parents=True)
    out, err = io.StringIO(), io.StringIO()
    with (
        pytest.MonkeyPatch.context() as patch,
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
    ):
        patch.setenv("TMPDIR", str(tmpdir))
        patch.setattr(tempfile, "tempdir", None)  # gettempdir() reads TMPDIR again
        code = e2e_support.run(
            "london", config or baseline["config"], baseline["data"], baseline["output"], *STEPS
        )
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "tmpdir": tmpdir}


def _versions(listing: dict[str, list[str]]) -> set[str]:
    return {name.split("/")[0] for name in listing.get("london", [])}


def _pusher(output):
    """(state, PushedModel custom properties or None) of the latest run's Pusher."""
    store, nodes = faults.latest_run(output, "london")
    node = nodes[wiring.PUSHER]
    pushed = metadata.outputs_of(store, node.execution.id, "pushed_model")
    return node.state, metadata.custom_properties(pushed[0]) if pushed else None


def _no_temp_left(baseline, tmpdir, allowed=()):
    assert sorted(os.listdir(tmpdir)) == sorted(allowed)
    run_tmp = baseline["layout"].tmp_dir("london")
    assert not run_tmp.exists() or os.listdir(run_tmp) == []


def test_full_disks_in_the_pusher_publish_nothing_then_a_rerun_publishes_once(baseline, tmp_path):
    """The four cases of the module docstring in order, in one test: each case starts
    from what the one before left (the sequence is the point), so no other test's
    order can change it."""
    output = baseline["output"]
    versions_before = faults.serving_listing(output)

    # 1. serving/london on a 256 kB disk (the model is ~620 kB)
    with faults.small_disk(baseline["layout"].serving_base("london"), "256k") as disk:
        serving_full = _run(baseline, tmp_path / "serving-full")
        left_on_disk = sorted(os.listdir(disk))
    assert serving_full["code"] == exit_codes.COMPONENT_FAILED
    faults.one_line_error(
        serving_full["err"], f"FAILED at {wiring.PUSHER}", DISK_FULL, with_log=True
    )
    assert left_on_disk == []  # no version, no staging dir
    assert faults.serving_listing(output) == versions_before
    assert _pusher(output)[0] == "FAILED"
    _no_temp_left(baseline, serving_full["tmpdir"])

    # 2. the Pusher's output dir on a 256 kB disk, the log dir on a full one
    log_dir = baseline["layout"].log_dir("london")
    with (
        faults.small_disk(baseline["layout"].pipeline_root("london") / wiring.PUSHER, "256k"),
        faults.small_disk(log_dir, "64k", fill=True),
    ):
        archive_full = _run(baseline, tmp_path / "archive-full")
    err = archive_full["err"]
    assert archive_full["code"] == exit_codes.COMPONENT_FAILED, err
    faults.one_line_error(err, f"FAILED at {wiring.PUSHER}", DISK_FULL, with_log=True, warnings=1)
    warning = err.splitlines()[0]
    assert warning.startswith(f"warning: cannot write the run log {log_dir}/run-"), err
    assert f"({DISK_FULL}); the run goes on without it" in warning
    assert "Logging error" not in err
    # Before: the version was renamed into place, then this copy failed.
    assert faults.serving_listing(output) == versions_before
    assert _pusher(output)[0] == "FAILED"
    # The traceback went to the only writable place left: a log file in TMPDIR, named.
    log_line = err.splitlines()[-1]
    assert log_line.startswith(f"full log: {archive_full['tmpdir']}/cli-")
    _no_temp_left(baseline, archive_full["tmpdir"], [os.path.basename(log_line)])

    # 3. the same command with room on every disk: one new version
    republished = _run(baseline, tmp_path / "republished")
    assert republished["code"] == exit_codes.OK, republished["out"] + republished["err"]
    assert republished["err"] == ""
    after = faults.serving_listing(output)
    (new,) = _versions(after) - _versions(versions_before)  # one new version
    assert set(versions_before["london"]) <= set(after["london"])  # the others untouched
    assert {f"{new}/saved_model.pb", f"{new}/embedding.tsv"} <= set(after["london"])
    state, first = _pusher(output)
    assert state == "COMPLETE"
    assert first["pushed"] == 1 and first["pushed_version"] == new
    assert first[pusher.ALREADY_PUBLISHED_PROPERTY] == 0
    assert first[pusher.FINGERPRINT_PROPERTY].startswith("sha256:")
    _no_temp_left(baseline, republished["tmpdir"])

    # 4. another gate bound: the Evaluator runs again and blesses the same (cached)
    # model, so the Pusher runs with a model that is already the latest version
    raw = yaml.safe_load(baseline["config"].read_text())
    raw["evaluation"]["thresholds"]["mean_absolute_error"]["upper_bound"] += 1
    config = tmp_path / "other-gate.yaml"
    config.write_text(yaml.safe_dump(raw))
    run = _run(baseline, tmp_path / "reevaluated", config)
    assert run["code"] == exit_codes.OK, run["out"] + run["err"]
    assert faults.serving_listing(output) == after  # no second copy
    state, props = _pusher(output)
    assert state == "COMPLETE"  # it ran (not a cache hit) and recorded the version
    assert props["pushed"] == 1
    assert props["pushed_version"] == first["pushed_version"]
    assert props["pushed_destination"] == first["pushed_destination"]
    assert props[pusher.ALREADY_PUBLISHED_PROPERTY] == 1
    assert props[pusher.FINGERPRINT_PROPERTY] == first[pusher.FINGERPRINT_PROPERTY]
    assert "not published again" in run["out"]
    _no_temp_left(baseline, run["tmpdir"])
