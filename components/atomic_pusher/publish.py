"""Pure helpers: versioned, atomic publication of a model directory.

A model is copied into a hidden staging directory beside its destination, every file
and directory of it is synced to disk, and only then is it renamed to
``<serving_base>/<version>``: that rename is the one step that publishes. On a local
(POSIX) filesystem the rename is atomic, so a reader that lists version directories
never sees a half-written model, and a failure before it (a full disk, a crash) leaves
no version, only a staging directory that is removed (or, after a crash, removed by
the next run). On object stores (gs://) a rename is a copy; readers there must ignore
names that start with ``.``, which staging names always do.

A model is identified by a content fingerprint (``fingerprint``: SHA-256 over every
file's relative path and bytes), so pushing the model that is already the latest
version publishes nothing new (``latest_if_same``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import uuid
from collections.abc import Iterator

import tensorflow as tf
from tfx.utils import io_utils

STAGING_PREFIX = ".staging-"
_CHUNK = 1 << 20


def published_versions(serving_base: str) -> list[int]:
    """Complete (non-staging) integer versions under ``serving_base``, ascending."""
    if not tf.io.gfile.isdir(serving_base):
        return []
    names = (n.rstrip("/") for n in tf.io.gfile.listdir(serving_base))
    return sorted(int(n) for n in names if n.isdigit())


def version_dir(serving_base: str, version: int) -> str:
    """``<serving_base>/<version>``: where a published version lives."""
    return os.path.join(serving_base, str(version))


def next_version(serving_base: str, now: float | None = None) -> int:
    """Epoch seconds, bumped past any existing version so versions only grow."""
    candidate = int(now if now is not None else time.time())
    existing = published_versions(serving_base)
    return max([candidate, *(v + 1 for v in existing)])


def fingerprint(model_dir: str) -> str:
    """``sha256:<hex>`` over every file under ``model_dir``: relative path and contents.

    Two directories have the same fingerprint exactly when they hold the same files
    with the same bytes (the SavedModel's own ``fingerprint.pb`` covers only the
    SavedModel, not the embedding files published beside it).
    """
    digest = hashlib.sha256()
    root = model_dir.rstrip("/")
    for directory, _, files in sorted(tf.io.gfile.walk(root)):
        for name in sorted(files):
            path = os.path.join(directory, name)
            content = hashlib.sha256()
            with tf.io.gfile.GFile(path, "rb") as handle:
                while chunk := handle.read(_CHUNK):
                    content.update(chunk)
            digest.update(f"{os.path.relpath(path, root)}\0{content.hexdigest()}\n".encode())
    return f"sha256:{digest.hexdigest()}"


def latest_if_same(serving_base: str, model_fingerprint: str) -> int | None:
    """The latest published version if it holds the model with this fingerprint, else None.

    Only the latest counts: a model equal to an older version is published again as a
    new version, since the latest version is the one that is served.
    """
    versions = published_versions(serving_base)
    if not versions:
        return None
    latest = versions[-1]
    same = fingerprint(version_dir(serving_base, latest)) == model_fingerprint
    return latest if same else None


def sync_tree(path: str) -> None:
    """fsync every file and directory under a local ``path`` (and ``path`` itself).

    Object stores (``scheme://``) are durable once a write is closed: nothing to do.
    """
    if "://" in path:
        return
    for directory, _, files in os.walk(path):
        for name in files:
            _fsync(os.path.join(directory, name))
        _fsync(directory)


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def staged_version(serving_base: str, version: int) -> Iterator[str]:
    """Yields a hidden staging dir to write the version into. When the block succeeds,
    syncs it and renames it to ``<serving_base>/<version>``; when anything fails before
    that rename, removes it, so nothing is published.

    Raises FileExistsError if the version is already published.
    """
    final_dir = version_dir(serving_base, version)
    if tf.io.gfile.exists(final_dir):
        raise FileExistsError(f"model version already published: {final_dir}")
    staging = os.path.join(serving_base, f"{STAGING_PREFIX}{version}-{uuid.uuid4().hex[:8]}")
    tf.io.gfile.makedirs(staging)
    try:
        yield staging
        sync_tree(staging)
        tf.io.gfile.rename(staging, final_dir, overwrite=False)  # the one publishing step
    except BaseException:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
        raise
    sync_dir(serving_base)


def sync_dir(directory: str) -> None:
    """fsync a local directory itself, so a rename inside it is durable."""
    if "://" not in directory:
        _fsync(directory)


def publish_atomically(sources: dict[str, str], serving_base: str, version: int) -> str:
    """Copies ``sources`` (name in version dir -> source path) and renames into place.

    Returns the final version directory. Raises if the version already exists.
    """
    with staged_version(serving_base, version) as staging:
        for name, src in sources.items():
            dst = os.path.join(staging, name) if name else staging
            if tf.io.gfile.isdir(src):
                io_utils.copy_dir(src, dst)
            else:
                tf.io.gfile.copy(src, dst, overwrite=True)
    return version_dir(serving_base, version)
