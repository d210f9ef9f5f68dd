"""Scores exported traffic models on raw eval examples with the training losses.

Reads the ExampleGen ``Split-eval`` TFRecords (serialized raw ``tf.Example``s), runs a
SavedModel's ``serving_default`` on them and computes, per example, the two losses the
Trainer minimises:

* headway: exponential NLL ``rate * t - log(rate)`` with ``rate = 1 / headway_seconds``
  and ``t`` clipped below at ``MIN_HEADWAY_SECONDS`` like ``preprocessing_fn`` does;
* vehicle type: cross-entropy ``-log p[type]``, probabilities clipped like Keras does.

Used by ``benchmarks.warm_start_benefit`` and ``benchmarks.warm_start_days``.
"""

from __future__ import annotations

import dataclasses
import glob
import hashlib
import os
from dataclasses import dataclass

import numpy as np

from transforms import features

# TensorFlow is imported inside the functions: the benchmark's main() pins Keras 2 first.

KERAS_EPSILON = 1e-7  # tf_keras.backend.epsilon(): sparse cross-entropy clips p to [e, 1 - e]
PREDICT_BATCH = 8192


def _label_spec() -> dict:
    """The parsing spec of the columns the losses need."""
    import tensorflow as tf

    return {
        features.TIMESTAMP_UTC: tf.io.FixedLenFeature([], tf.int64),
        features.DAY_OF_WEEK: tf.io.FixedLenFeature([], tf.int64),
        features.HOUR: tf.io.FixedLenFeature([], tf.int64),
        features.SECONDS_TO_NEXT_VEHICLE: tf.io.FixedLenFeature([], tf.float32),
        features.VEHICLE_TYPE: tf.io.FixedLenFeature([], tf.string),
    }


@dataclass(frozen=True)
class SplitRecords:
    """The serialized examples of one split and the columns the losses need."""

    files: tuple[str, ...]
    serialized: np.ndarray  # object array of bytes
    timestamp_utc: np.ndarray  # int64 epoch seconds
    day_of_week: np.ndarray  # int64
    hour: np.ndarray  # int64
    headway: np.ndarray  # float64 seconds, clipped like preprocessing_fn
    vehicle_type: np.ndarray  # int64 index into features.VEHICLE_TYPES

    def __len__(self) -> int:
        return len(self.serialized)

    def select(self, mask: np.ndarray) -> SplitRecords:
        """The rows where ``mask`` is true, in their order."""
        return dataclasses.replace(
            self,
            **{
                f.name: getattr(self, f.name)[mask]
                for f in dataclasses.fields(self)
                if f.name != "files"
            },
        )

    def fingerprint(self) -> str:
        """SHA-256 over the sorted examples: equal iff the same rows with the same values.

        Examples are re-serialized deterministically first: the feature map's order in
        ExampleGen's bytes differs between processes (it follows the hash seed).
        """
        import tensorflow as tf

        canonical = sorted(
            tf.train.Example.FromString(r).SerializeToString(deterministic=True)
            for r in self.serialized
        )
        digest = hashlib.sha256()
        for record in canonical:
            digest.update(len(record).to_bytes(8, "little"))
            digest.update(record)
        return digest.hexdigest()


def split_files(examples_uri: str, split: str) -> list[str]:
    """The TFRecord files of ``Split-<split>`` of an Examples artifact (fails if none)."""
    pattern = os.path.join(examples_uri, f"Split-{split}", "*")
    files = sorted(glob.glob(pattern))
    if not files:
        raise FileNotFoundError(f"no TFRecord files match {pattern}")
    return files


def read_split(examples_uri: str, split: str) -> SplitRecords:
    """Reads every example of one split of an ExampleGen artifact (GZIP TFRecords)."""
    import tensorflow as tf

    from transforms.preprocessing import MIN_HEADWAY_SECONDS

    label_spec = _label_spec()
    files = split_files(examples_uri, split)
    serialized = [r.numpy() for r in tf.data.TFRecordDataset(files, compression_type="GZIP")]
    if not serialized:
        raise ValueError(f"{examples_uri} Split-{split}: no examples")
    columns: dict[str, list[np.ndarray]] = {k: [] for k in label_spec}
    for lo in range(0, len(serialized), PREDICT_BATCH):
        batch = serialized[lo : lo + PREDICT_BATCH]
        try:
            parsed = tf.io.parse_example(tf.constant(batch), label_spec)
        except tf.errors.InvalidArgumentError as err:
            raise ValueError(
                f"{examples_uri} Split-{split}, examples {lo}..{lo + len(batch) - 1}: "
                f"cannot parse {sorted(label_spec)}: {err.message}"
            ) from err
        for key in label_spec:
            columns[key].append(parsed[key].numpy())
    col = {k: np.concatenate(v) for k, v in columns.items()}
    type_names = [t.encode() for t in features.VEHICLE_TYPES]
    types = np.array(
        [type_names.index(t) if t in type_names else -1 for t in col[features.VEHICLE_TYPE]]
    )
    if (types < 0).any():
        bad = int(np.flatnonzero(types < 0)[0])
        raise ValueError(
            f"{examples_uri} Split-{split}, example {bad}: field {features.VEHICLE_TYPE} = "
            f"{col[features.VEHICLE_TYPE][bad]!r} not in {features.VEHICLE_TYPES}"
        )
    return SplitRecords(
        files=tuple(files),
        serialized=np.array(serialized, dtype=object),
        timestamp_utc=col[features.TIMESTAMP_UTC].astype(np.int64),
        day_of_week=col[features.DAY_OF_WEEK].astype(np.int64),
        hour=col[features.HOUR].astype(np.int64),
        headway=np.maximum(
            col[features.SECONDS_TO_NEXT_VEHICLE].astype(np.float64), MIN_HEADWAY_SECONDS
        ),
        vehicle_type=types,
    )


@dataclass(frozen=True)
class ExampleLosses:
    """Per-example losses of one model on one split."""

    headway_nll: np.ndarray
    type_xent: np.ndarray

    @property
    def total(self) -> np.ndarray:
        """The Trainer's loss: the sum of both heads' losses (equal weights)."""
        return self.headway_nll + self.type_xent


def headway_nll(headway: np.ndarray, expected_seconds: np.ndarray) -> np.ndarray:
    """Exponential NLL ``rate * t - log(rate)``, ``rate = 1 / expected_seconds``."""
    rate = 1.0 / np.asarray(expected_seconds, dtype=np.float64)
    return rate * headway - np.log(rate)


def type_cross_entropy(vehicle_type: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """``-log p[type]`` with ``p`` clipped to ``[eps, 1 - eps]`` like Keras."""
    p = np.asarray(probs, dtype=np.float64)[np.arange(len(vehicle_type)), vehicle_type]
    return -np.log(np.clip(p, KERAS_EPSILON, 1.0 - KERAS_EPSILON))


def score_saved_model(model_dir: str, records: SplitRecords) -> ExampleLosses:
    """Runs ``serving_default`` of the SavedModel in ``model_dir`` on the raw examples."""
    import tensorflow as tf

    loaded = tf.saved_model.load(model_dir)
    serve = loaded.signatures["serving_default"]
    seconds, probs = [], []
    for lo in range(0, len(records), PREDICT_BATCH):
        batch = tf.constant(list(records.serialized[lo : lo + PREDICT_BATCH]), dtype=tf.string)
        out = serve(examples=batch)
        seconds.append(out[features.HEADWAY_OUTPUT].numpy().reshape(-1))
        probs.append(out[features.VEHICLE_TYPE_OUTPUT].numpy())
    return ExampleLosses(
        headway_nll=headway_nll(records.headway, np.concatenate(seconds)),
        type_xent=type_cross_entropy(records.vehicle_type, np.concatenate(probs)),
    )


def score_constant(train: SplitRecords, records: SplitRecords) -> ExampleLosses:
    """Reference: one mean headway and one type mix for every row, from the train split."""
    shares = np.bincount(train.vehicle_type, minlength=len(features.VEHICLE_TYPES)) / len(train)
    n = len(records)
    return ExampleLosses(
        headway_nll=headway_nll(records.headway, np.full(n, train.headway.mean())),
        type_xent=type_cross_entropy(records.vehicle_type, np.tile(shares, (n, 1))),
    )
