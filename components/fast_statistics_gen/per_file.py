"""Statistics of a split from per-file TFDV accumulators, kept between runs.

With ExampleGen's day cache (``components/traffic_example_gen/day_cache.py``) a nightly
Examples artifact holds the same day files as the night before, plus one new day and
the window's day-boundary examples. Here each file of a split goes through TFDV's
combiner generators on its own (``combiners``); the accumulators of a **day file**
(``day_cache.is_day_file``) are stored under ``cache_dir``, keyed by the SHA-256 of the
file's bytes and of the statistics options (schema included) and TFDV's version, and
taken back on a later run; the other files (boundaries) are computed every run. The
split's statistics are TFDV's merge of all its files' accumulators
(``merge_accumulators``, as TFDV's Beam combiner merges its workers'), then
``extract_statistics_output``.

Error against one pass over the split: counts, minimum, maximum, top values and unique
counts (below TFDV's sketch sizes) are the same; means and standard deviations differ
only in summation order (relative 1e-9); quantiles and histogram bucket counts are
merged sketches, within TFDV's documented sketch error (rank error at most
``2 * epsilon * N``, epsilon 0.01), as the streaming path's batches already are
(tested against a full recomputation in tests/components/fast_statistics_gen/).

Stored accumulators are pickles (TFDV's own accumulator classes and tfx_bsl sketches,
which Beam pickles between workers too), in the runner-owned pipeline root; each is
written under a temporary name and renamed, and one that cannot be read back is
computed again.
"""

from __future__ import annotations

import hashlib
import pickle
import posixpath
import uuid
from typing import Any

import tensorflow as tf
import tensorflow_data_validation as tfdv
from absl import logging
from tensorflow_data_validation.statistics import stats_impl
from tensorflow_data_validation.statistics.stats_options import StatsOptions
from tensorflow_metadata.proto.v0 import statistics_pb2

from components.fast_statistics_gen import reading
from components.traffic_example_gen.day_cache import is_day_file

FORMAT_VERSION = 1
_HASH_CHUNK = 8 << 20


def options_key(options: StatsOptions) -> str:
    """SHA-256 of the options (schema included), TFDV's version and ``FORMAT_VERSION``."""
    material = f"{FORMAT_VERSION}\n{tfdv.__version__}\n{options.to_json()}"
    return hashlib.sha256(material.encode()).hexdigest()


def file_key(path: str, options_digest: str) -> str:
    """The cache key of one file's accumulators: its bytes' SHA-256 and the options."""
    digest = hashlib.sha256(options_digest.encode())
    with tf.io.gfile.GFile(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _accumulate(generators: list, path: str) -> tuple[list[Any], int]:
    accumulators = [g.create_accumulator() for g in generators]
    rows = 0
    for batch in reading.read_batches([path], reading.READ_BATCH_SIZE):
        if not batch.num_rows:
            continue
        rows += batch.num_rows
        accumulators = [
            g.add_input(a, batch) for g, a in zip(generators, accumulators, strict=True)
        ]
    return accumulators, rows


def _load(path: str) -> tuple[list[Any], int] | None:
    if not tf.io.gfile.exists(path):
        return None
    try:
        with tf.io.gfile.GFile(path, "rb") as handle:
            accumulators, rows = pickle.loads(handle.read())
    # Unpickling a torn or foreign file raises many types (EOFError, UnpicklingError,
    # AttributeError, ...): any of them means "not a stored entry", computed again.
    except Exception as err:
        logging.warning("accumulators %s cannot be read (%s): computing them again", path, err)
        return None
    return accumulators, rows


def _store(path: str, value: tuple[list[Any], int]) -> None:
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    with tf.io.gfile.GFile(temporary, "wb") as handle:
        handle.write(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    tf.io.gfile.rename(temporary, path, overwrite=True)


def statistics_of_files(
    files: list[str], options: StatsOptions, cache_dir: str
) -> tuple[statistics_pb2.DatasetFeatureStatisticsList, int, int, int]:
    """(statistics, rows, day files reused, files computed) of the split made of ``files``."""
    # stats_impl: see combiners.statistics_of_batches (the per-batch combiners are not
    # in TFDV's public API).
    generators = stats_impl.get_generators(options, in_memory=True)
    for generator in generators:
        generator.setup()
    digest = options_key(options)
    tf.io.gfile.makedirs(cache_dir)
    per_file, total_rows, reused, computed = [], 0, 0, 0
    for path in files:
        stored = None
        if is_day_file(posixpath.basename(path)):
            stored = posixpath.join(cache_dir, f"{file_key(path, digest)}.pkl")
        found = _load(stored) if stored else None
        if found is None:
            found = _accumulate(generators, path)
            computed += 1
            if stored:
                _store(stored, found)
        else:
            reused += 1
        per_file.append(found[0])
        total_rows += found[1]
    if per_file:
        merged = [
            g.merge_accumulators([accumulators[i] for accumulators in per_file])
            for i, g in enumerate(generators)
        ]
    else:
        merged = [g.create_accumulator() for g in generators]
    return stats_impl.extract_statistics_output(merged, generators), total_rows, reused, computed
