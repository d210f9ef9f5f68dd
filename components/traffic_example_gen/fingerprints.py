"""Fingerprints of the daily input files: size and SHA-256 of the bytes.

Content-based on purpose: a day rewritten in place (same name, new content) gets a new
fingerprint even when a copy tool preserves the modification time, and a file copied
elsewhere (same content, new mtime) keeps it. The price is one sequential read of each
file, cheap next to parsing it.
"""

from __future__ import annotations

import hashlib
import json

from components.traffic_example_gen.reading import DailyFile

_CHUNK = 8 << 20


def fingerprint(daily: DailyFile) -> dict[str, object]:
    """``{"file": name, "size": bytes, "sha256": hex}`` of one daily file."""
    from tfx.dsl.io import fileio  # here: gs:// support imports TensorFlow

    digest = hashlib.sha256()
    size = 0
    with fileio.open(daily.path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return {"file": daily.name, "size": size, "sha256": digest.hexdigest()}


def fingerprints_json(files: list[DailyFile]) -> str:
    """JSON ``{day: fingerprint}`` of ``files``, keyed by ISO day, sorted."""
    return json.dumps({f.day.isoformat(): fingerprint(f) for f in files}, sort_keys=True)
