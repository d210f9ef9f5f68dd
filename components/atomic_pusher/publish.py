"""Pure helpers: versioned, atomic publication of a model directory.

A model is copied into a hidden staging directory beside its destination and then
renamed to ``<serving_base>/<version>``. On a local (POSIX) filesystem the rename is
atomic, so a reader that lists version directories never sees a half-written model.
On object stores (gs://) a rename is a copy; readers there must ignore names that
start with ``.``, which staging names always do.
"""

from __future__ import annotations

import os
import time
import uuid

import tensorflow as tf
from tfx.utils import io_utils

STAGING_PREFIX = ".staging-"


def published_versions(serving_base: str) -> list[int]:
    """Complete (non-staging) integer versions under ``serving_base``, ascending."""
    if not tf.io.gfile.isdir(serving_base):
        return []
    names = (n.rstrip("/") for n in tf.io.gfile.listdir(serving_base))
    return sorted(int(n) for n in names if n.isdigit())


def next_version(serving_base: str, now: float | None = None) -> int:
    """Epoch seconds, bumped past any existing version so versions only grow."""
    candidate = int(now if now is not None else time.time())
    existing = published_versions(serving_base)
    return max([candidate, *(v + 1 for v in existing)])


def publish_atomically(sources: dict[str, str], serving_base: str, version: int) -> str:
    """Copies ``sources`` (name in version dir -> source path) and renames into place.

    Returns the final version directory. Raises if the version already exists.
    """
    final_dir = os.path.join(serving_base, str(version))
    if tf.io.gfile.exists(final_dir):
        raise FileExistsError(f"model version already published: {final_dir}")
    staging = os.path.join(serving_base, f"{STAGING_PREFIX}{version}-{uuid.uuid4().hex[:8]}")
    tf.io.gfile.makedirs(staging)
    try:
        for name, src in sources.items():
            dst = os.path.join(staging, name) if name else staging
            if tf.io.gfile.isdir(src):
                io_utils.copy_dir(src, dst)
            else:
                tf.io.gfile.copy(src, dst, overwrite=True)
        tf.io.gfile.rename(staging, final_dir, overwrite=False)
    except Exception:
        if tf.io.gfile.exists(staging):
            tf.io.gfile.rmtree(staging)
        raise
    return final_dir
