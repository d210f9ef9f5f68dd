"""The generator's atomic output directory: all of it appears, or nothing does."""

from __future__ import annotations

import os
import stat

import pytest

from deploy.datasets.output import MARKER_FILE, GenerationError, staged_directory, written_files


def test_a_failure_inside_the_block_leaves_nothing_behind(tmp_path):
    target = tmp_path / "new" / "parents" / "out"
    with (
        pytest.raises(RuntimeError, match="disk full"),
        staged_directory(target, overwrite=False) as staging,
    ):
        (staging / "2026-03-16.csv").write_text("timestamp\n")
        raise RuntimeError("disk full")
    assert list(tmp_path.iterdir()) == []  # staging dir and created parents removed


def test_success_replaces_the_old_output_only_at_the_end(tmp_path):
    target = tmp_path / "out"
    with staged_directory(target, overwrite=False) as staging:
        (staging / "old.csv").write_text("old\n")
    target.chmod(0o750)
    with staged_directory(target, overwrite=True) as staging:
        (staging / "new.csv").write_text("new\n")
        assert sorted(p.name for p in target.iterdir()) == [MARKER_FILE, "old.csv"]  # not yet
    assert sorted(p.name for p in target.iterdir()) == [MARKER_FILE, "new.csv"]
    assert written_files(target) == {"new.csv"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o750  # the folder's mode is kept
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or retired dir left


def test_a_new_output_gets_the_umask_mode_not_0700(tmp_path):
    mask = os.umask(0o022)
    try:
        with staged_directory(tmp_path / "out", overwrite=False) as staging:
            (staging / "new.csv").write_text("new\n")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "out").stat().st_mode) == 0o755


def test_overwrite_refuses_files_the_tools_did_not_write(tmp_path):
    target = tmp_path / "out"
    with staged_directory(target, overwrite=False) as staging:
        (staging / "ours.csv").write_text("ours\n")
    (target / "notes.txt").write_text("mine\n")
    with (
        pytest.raises(GenerationError, match=r"did not write \(notes.txt\)"),
        staged_directory(target, overwrite=True) as staging,
    ):
        (staging / "new.csv").write_text("new\n")
    assert (target / "notes.txt").read_text() == "mine\n"
    with staged_directory(target, overwrite=True, overwrite_foreign=True) as staging:
        (staging / "new.csv").write_text("new\n")
    assert sorted(p.name for p in target.iterdir()) == [MARKER_FILE, "new.csv"]


def test_output_that_appears_meanwhile_is_not_overwritten(tmp_path):
    target = tmp_path / "out"
    with (
        pytest.raises(GenerationError, match="already holds data"),
        staged_directory(target, overwrite=False) as staging,
    ):
        (staging / "new.csv").write_text("new\n")
        target.mkdir()
        (target / "theirs.csv").write_text("someone else's\n")
    assert [p.name for p in target.iterdir()] == ["theirs.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
