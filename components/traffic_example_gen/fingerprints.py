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


def listing_token(files: list[DailyFile], as_of: str = "") -> str:
    """A cheap digest of the files' names, sizes and modification times (and ``as_of``).

    Not a fingerprint (a rewrite that keeps size and mtime is not seen): the cache key a
    caching runner passes as ExampleGen's ``input_token``, so that a new, late or
    rewritten day makes ExampleGen run again instead of reusing the last window.
    """
    from apache_beam.io.filesystems import FileSystems  # here: light module import

    digest = hashlib.sha256(as_of.encode())
    for result in FileSystems.match([f.path for f in files]):
        for meta in result.metadata_list:
            line = f"{meta.path}\t{meta.size_in_bytes}\t{meta.last_updated_in_seconds}\n"
            digest.update(line.encode())
    return digest.hexdigest()
