"""The generator's atomic output directory: all of it appears, or nothing does."""

from __future__ import annotations

import pytest

from deploy.synthetic.output import GenerationError, staged_directory


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
    target.mkdir()
    (target / "old.csv").write_text("old\n")
    with staged_directory(target, overwrite=True) as staging:
        (staging / "new.csv").write_text("new\n")
        assert [p.name for p in target.iterdir()] == ["old.csv"]  # not yet swapped
    assert [p.name for p in target.iterdir()] == ["new.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or retired dir left


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
