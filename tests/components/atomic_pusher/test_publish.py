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


def test_fingerprint_is_the_content_of_every_file(tmp_path):
    a, b = _model(tmp_path / "a"), _model(tmp_path / "b")
    assert publish.fingerprint(str(a)) == publish.fingerprint(str(b))
    assert publish.fingerprint(str(a)).startswith("sha256:")
    (b / "variables" / "variables.index").write_bytes(b"idy")  # one byte differs
    assert publish.fingerprint(str(a)) != publish.fingerprint(str(b))
    (b / "variables" / "variables.index").write_bytes(b"idx")
    (b / "variables" / "extra").write_bytes(b"")  # one more (empty) file
    assert publish.fingerprint(str(a)) != publish.fingerprint(str(b))


def test_only_the_latest_version_counts_as_already_published(tmp_path):
    src, base = _model(tmp_path), tmp_path / "serving"
    same = publish.fingerprint(str(src))
    assert publish.latest_if_same(str(base), same) is None  # nothing published yet
    publish.publish_atomically({"": str(src)}, str(base), 5)
    assert publish.latest_if_same(str(base), same) == 5
    other = _model(tmp_path / "other")
    (other / "embedding.tsv").write_text("0.3\t0.4\n")
    publish.publish_atomically({"": str(other)}, str(base), 6)
    assert publish.latest_if_same(str(base), same) is None  # 5 is no longer what is served


def test_a_failure_inside_the_staged_block_publishes_nothing(tmp_path):
    src, base = _model(tmp_path), tmp_path / "serving"
    with (
        pytest.raises(OSError, match="No space left"),
        publish.staged_version(str(base), 9) as staging,
    ):
        publish.io_utils.copy_dir(str(src), staging)
        raise OSError(28, "No space left on device")  # e.g. the archive copy
    assert list(base.iterdir()) == []
    assert publish.published_versions(str(base)) == []
