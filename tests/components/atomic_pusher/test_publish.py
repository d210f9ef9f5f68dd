"""Versioned, atomic publication: complete versions only, staging never visible."""

from __future__ import annotations

import os

import pytest

from components.atomic_pusher import publish


def _model(tmp_path):
    src = tmp_path / "model"
    (src / "variables").mkdir(parents=True)
    (src / "saved_model.pb").write_bytes(b"pb")
    (src / "variables" / "variables.index").write_bytes(b"idx")
    (src / "embedding.tsv").write_text("0.1\t0.2\n")
    return src


def test_publish_copies_the_tree_and_renames_into_the_version(tmp_path):
    src, base = _model(tmp_path), tmp_path / "serving" / "london"
    final = publish.publish_atomically({"": str(src)}, str(base), 1700000000)
    assert final == os.path.join(str(base), "1700000000")
    assert (base / "1700000000" / "variables" / "variables.index").read_bytes() == b"idx"
    assert (base / "1700000000" / "embedding.tsv").read_text() == "0.1\t0.2\n"
    assert [p.name for p in base.iterdir()] == ["1700000000"]  # no staging left over
    assert publish.published_versions(str(base)) == [1700000000]


def test_versions_only_grow_even_within_one_second(tmp_path):
    src, base = _model(tmp_path), tmp_path / "serving"
    v1 = publish.next_version(str(base), now=1000)
    publish.publish_atomically({"": str(src)}, str(base), v1)
    v2 = publish.next_version(str(base), now=1000)
    assert (v1, v2) == (1000, 1001)


def test_existing_version_is_never_overwritten(tmp_path):
    src, base = _model(tmp_path), tmp_path / "serving"
    publish.publish_atomically({"": str(src)}, str(base), 5)
    with pytest.raises(FileExistsError, match="already published"):
        publish.publish_atomically({"": str(src)}, str(base), 5)
    assert publish.published_versions(str(base)) == [5]


def test_failed_copy_leaves_no_staging_and_no_version(tmp_path):
    base = tmp_path / "serving"
    with pytest.raises(Exception):  # noqa: B017 - any copy error must propagate
        publish.publish_atomically({"": str(tmp_path / "missing")}, str(base), 7)
    assert not base.exists() or list(base.iterdir()) == []
    assert publish.published_versions(str(base)) == []
