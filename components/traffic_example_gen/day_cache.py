"""The day cache: each input day's parsed, labelled and encoded rows, kept between runs.

A nightly run on a rolling window reads one new day and 27 it has seen before. With a
day cache (the ``day_cache`` parameter: a directory the runner owns, under the
pipeline root -- local disk or ``gs://``), each daily file is parsed and encoded once;
later runs take its entry back if the file's fingerprint is the same.

An **entry** is keyed by what its bytes depend on (``entry_key``): the file's path and
content fingerprint (size, SHA-256), the time zone, the duplicate rule and
``FORMAT_VERSION`` (bump it when parsing, labels or encoding change: like TFX's own
cache, the key does not see code). It holds, split-independent (a day may move from
eval to train as the window moves; the executor places the files into the split the
run gives the day):

- ``examples-SSSSS.gz``: the day's framed tf.Examples of every vehicle whose next
  vehicle of the same approach is in the same file (the *body*), GZIP TFRecords;
- ``tails-SSSSS.arrow``: per approach, the day's last vehicle and its first instant
  (the *tail*): labelled in each run against the next day it sees, so a day's last
  vehicles are unlabeled until the next day arrives, and labels stay exact;
- ``rejects.jsonl.gz`` (if any) and ``counts.json``: the day's accounting, which must
  satisfy ``rows_read = body_examples + tail_vehicles + rejected`` (``check_day``).

Writes are atomic: the files go to a fresh attempt directory, and the entry only exists
once ``entry.json`` (the list of the attempt's files and the counts) is in place,
written last, via a temporary name and a rename. A half-written entry (no, or an
unreadable, ``entry.json``; a listed file gone) is never reused: the day is ingested
again.

**Pruning** (``prune``): at the end of a successful run, the entries of every day more
than ``cache_keep_days`` days before the window's first day are deleted: first each
entry's ``entry.json`` (the entry is then no entry, never reused), then the day's
directory. An interrupted prune leaves files without ``entry.json`` that the next prune
removes. A run whose ``--as-of`` is older than a pruned day ingests that day again.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import posixpath
import re

from apache_beam.io.filesystems import FileSystems

from components.traffic_example_gen import accounting
from components.traffic_example_gen.reading import DailyFile
from components.traffic_example_gen.splits import EVAL, TRAIN

FORMAT_VERSION = 1
ENTRY_FILE = "entry.json"
EXAMPLES_PREFIX = "examples-"
EXAMPLES_SUFFIX = ".gz"
TAILS_PREFIX = "tails-"
TAILS_SUFFIX = ".arrow"
REJECTS_FILE = "rejects.jsonl.gz"
COUNTS_FILE = "counts.json"
# Per-day counts only (not run counts): vehicles labelled inside the day, and tails.
BODY_EXAMPLES = "body_examples"
TAIL_VEHICLES = "tail_vehicles"
# The tails file's extra column: each approach's first instant of the day.
TAIL_FIRST_TS = "first_ts_us"


class DayCacheError(RuntimeError):
    """A freshly written day does not satisfy its accounting identity."""


@dataclasses.dataclass(frozen=True)
class Entry:
    """A complete cache entry of one day (paths are absolute)."""

    day: datetime.date
    key: str
    examples: tuple[str, ...]
    tails: tuple[str, ...]
    rejects: str  # '' when the day had no rejects
    counts: dict[str, int]


def shard_name(prefix: str, shard: int, suffix: str) -> str:
    """``examples-00003.gz`` and the like."""
    return f"{prefix}{shard:05d}{suffix}"


def entry_key(fingerprint: dict, path: str, timezone: str, duplicates: str) -> str:
    """The SHA-256 key of a day's entry (see the module docstring)."""
    material = {
        "version": FORMAT_VERSION,
        "path": path,
        "size": fingerprint["size"],
        "sha256": fingerprint["sha256"],
        "timezone": timezone,
        "duplicates": duplicates,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def entry_dir(cache_root: str, day: datetime.date, key: str) -> str:
    """``<cache_root>/<YYYY-MM-DD>/<key>``."""
    return FileSystems.join(cache_root, day.isoformat(), key)


def attempt_dir(cache_root: str, day: datetime.date, key: str, attempt: str) -> str:
    """Where one run writes a day's files before the entry is committed."""
    return FileSystems.join(entry_dir(cache_root, day, key), f"attempt-{attempt}")


def _listing(directory: str) -> set[str]:
    results = FileSystems.match([FileSystems.join(directory, "*")])
    return {m.path for r in results for m in r.metadata_list}


def read_entry(cache_root: str, day: datetime.date, key: str) -> Entry | None:
    """The complete entry of ``key``, or None (absent, half-written or unreadable)."""
    where = entry_dir(cache_root, day, key)
    manifest_path = FileSystems.join(where, ENTRY_FILE)
    if not FileSystems.exists(manifest_path):
        return None
    try:
        with FileSystems.open(manifest_path) as handle:
            manifest = json.loads(handle.read())
        attempt = FileSystems.join(where, manifest["attempt"])
        names = {
            k: [FileSystems.join(attempt, n) for n in manifest[k]] for k in ("examples", "tails")
        }
        rejects = FileSystems.join(attempt, manifest["rejects"]) if manifest["rejects"] else ""
        counts = {str(k): int(v) for k, v in manifest["counts"].items()}
        if manifest["key"] != key or manifest["version"] != FORMAT_VERSION:
            return None
    except (ValueError, KeyError, TypeError):  # a torn or foreign entry.json: not an entry
        return None
    present = _listing(attempt)
    if not set(names["examples"] + names["tails"] + ([rejects] if rejects else [])) <= present:
        return None
    return Entry(day, key, tuple(names["examples"]), tuple(names["tails"]), rejects, counts)


def check_day(counts: dict[str, int], path: str) -> None:
    """Raises DayCacheError unless rows_read = body + tails + rejected for the day."""
    rejected = sum(counts.get(accounting.rejected_key(r), 0) for r in accounting.REASONS)
    accounted = counts.get(BODY_EXAMPLES, 0) + counts.get(TAIL_VEHICLES, 0) + rejected
    if accounted != counts.get(accounting.ROWS_READ, 0):
        raise DayCacheError(
            f"{path}: row accounting is broken: rows_read={counts.get(accounting.ROWS_READ, 0)}"
            f" but body_examples + tail_vehicles + rejected = {accounted} ({counts})"
        )


def commit_entry(cache_root: str, day: datetime.date, key: str, attempt: str, path: str) -> Entry:
    """Checks a freshly written attempt's accounting and commits it as the day's entry."""
    where = attempt_dir(cache_root, day, key, attempt)
    with FileSystems.open(FileSystems.join(where, COUNTS_FILE)) as handle:
        counts = json.loads(handle.read())
    check_day(counts, path)
    present = sorted(posixpath.basename(p) for p in _listing(where))
    manifest = {
        "version": FORMAT_VERSION,
        "key": key,
        "day": day.isoformat(),
        "file": path,
        "attempt": f"attempt-{attempt}",
        "examples": [n for n in present if n.startswith(EXAMPLES_PREFIX)],
        "tails": [n for n in present if n.startswith(TAILS_PREFIX)],
        "rejects": REJECTS_FILE if REJECTS_FILE in present else "",
        "counts": counts,
    }
    final = FileSystems.join(entry_dir(cache_root, day, key), ENTRY_FILE)
    temporary = f"{final}.tmp-{attempt}"
    with FileSystems.create(temporary) as handle:
        handle.write(json.dumps(manifest, sort_keys=True).encode())
    if FileSystems.exists(final):  # a re-ingest after a torn entry, or a concurrent run
        FileSystems.delete([final])
    FileSystems.rename([temporary], [final])
    entry = read_entry(cache_root, day, key)
    if entry is None:
        raise DayCacheError(f"{final}: the entry just written cannot be read back")
    return entry


_DAY_DIR = re.compile(r"^\d{4}-\d\d-\d\d$")


def cached_days(cache_root: str) -> dict[datetime.date, list[str]]:
    """{day: the files under its directory} of every day directory of the cache."""
    if not FileSystems.exists(cache_root):
        return {}
    root = cache_root.rstrip("/") + "/"
    [result] = FileSystems.match([FileSystems.join(cache_root, "**")])
    days: dict[datetime.date, list[str]] = {}
    for metadata in result.metadata_list:
        first = metadata.path[len(root) :].split("/", 1)[0]
        if metadata.path.startswith(root) and _DAY_DIR.match(first):
            days.setdefault(datetime.date.fromisoformat(first), []).append(metadata.path)
    return days


def prune(cache_root: str, before: datetime.date) -> list[datetime.date]:
    """Deletes the entries of every day before ``before`` (see the module docstring);
    returns the days deleted, oldest first."""
    old = {day: files for day, files in cached_days(cache_root).items() if day < before}
    if not old:
        return []
    markers = [p for files in old.values() for p in files if posixpath.basename(p) == ENTRY_FILE]
    if markers:
        FileSystems.delete(markers)  # first: no entry of these days is readable any more
    rest = [p for files in old.values() for p in files if posixpath.basename(p) != ENTRY_FILE]
    if rest:
        FileSystems.delete(rest)
    # The emptied directories, where the file system has them (not on GCS).
    dirs = [FileSystems.join(cache_root, day.isoformat()) for day in old]
    dirs = [d for d in dirs if FileSystems.exists(d)]
    if dirs:
        FileSystems.delete(dirs)
    return sorted(old)


def run_counts(counts: dict[str, int], split: str) -> dict[str, int]:
    """A day's counts as run counts: its body examples go to ``split``'s examples; its
    tails are counted when they are resolved (labelled or unlabeled) in the run."""
    if split not in (TRAIN, EVAL):
        raise ValueError(f"unknown split {split!r}")
    out = {k: v for k, v in counts.items() if k not in (BODY_EXAMPLES, TAIL_VEHICLES)}
    key = accounting.EXAMPLES_TRAIN if split == TRAIN else accounting.EXAMPLES_EVAL
    out[key] = out.get(key, 0) + counts.get(BODY_EXAMPLES, 0)
    return out


def placed_name(day: datetime.date, index: int, examples_prefix: str) -> str:
    """The name of a day's examples file inside a split dir."""
    return f"{examples_prefix}-{day.isoformat()}-{index:05d}{EXAMPLES_SUFFIX}"


_PLACED = re.compile(rf"^[A-Za-z_]+-\d{{4}}-\d\d-\d\d-\d{{5}}{re.escape(EXAMPLES_SUFFIX)}$")


def is_day_file(name: str) -> bool:
    """Whether a split file's ``name`` is a day's examples placed from the cache
    (``placed_name``): the same bytes every run while the day is unchanged."""
    return bool(_PLACED.match(name))


def place(
    entries: list[Entry],
    splits: list[str],
    split_uris: dict[str, str],
    rejects_uri: str,
    examples_prefix: str,
    rejects_prefix: str,
) -> None:
    """Copies each day's examples into its split dir and its rejects into the rejects
    artifact (server-side on GCS; one batch)."""
    sources, targets = [], []
    for entry, split in zip(entries, splits, strict=True):
        for index, path in enumerate(entry.examples):
            sources.append(path)
            targets.append(
                FileSystems.join(split_uris[split], placed_name(entry.day, index, examples_prefix))
            )
        if entry.rejects:
            sources.append(entry.rejects)
            targets.append(
                FileSystems.join(
                    rejects_uri,
                    f"{rejects_prefix}-{entry.day.isoformat()}{accounting.REJECTS_FILE_SUFFIX}",
                )
            )
    for uri in [*split_uris.values(), rejects_uri]:
        if not FileSystems.exists(uri):
            FileSystems.mkdirs(uri)
    if sources:
        FileSystems.copy(sources, targets)


def days_record(
    files: list[DailyFile], entries: list[Entry], reused: set[int], fingerprints: dict
) -> list[dict]:
    """One line per day for ``days.json``: file, fingerprint, ingested or reused, and the
    day's accounting (rows_read = body_examples + tail_vehicles + rejected)."""
    lines = []
    for index, (daily, entry) in enumerate(zip(files, entries, strict=True)):
        counts = entry.counts
        lines.append(
            {
                "day": daily.day.isoformat(),
                "file": daily.path,
                "sha256": fingerprints[daily.day.isoformat()]["sha256"],
                "source": "reused" if index in reused else "ingested",
                accounting.ROWS_READ: counts.get(accounting.ROWS_READ, 0),
                BODY_EXAMPLES: counts.get(BODY_EXAMPLES, 0),
                TAIL_VEHICLES: counts.get(TAIL_VEHICLES, 0),
                accounting.REJECTED_TOTAL: sum(
                    counts.get(accounting.rejected_key(r), 0) for r in accounting.REASONS
                ),
            }
        )
    return lines
