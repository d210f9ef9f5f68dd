"""Loads a donor model's day x hour embedding for a warm start ('frozen' or 'fine_tune').

Only the day x hour table transfers. Every problem raises ``WarmStartError``; there is
never a silent fall back to a cold start.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from transforms import features
from transforms import model_dir as model_dir_files

VARIABLES_PREFIX = os.path.join("variables", "variables")


class WarmStartError(ValueError):
    """The donor model cannot be used for a warm start; the message says why."""


@dataclass(frozen=True)
class DonorEmbedding:
    """The donor's day x hour table and where it came from."""

    model_dir: str  # the directory holding saved_model.pb
    spec: features.EmbeddingSpec
    table: np.ndarray  # [cross_buckets, embedding_dim]


def resolve_saved_model_dir(base_model: str) -> str:
    """Accepts a SavedModel dir, a Model artifact uri (with ``Format-Serving/``) or that
    ``Format-Serving`` path (``transforms.model_dir`` resolves all three)."""
    try:
        return model_dir_files.saved_model_dir(base_model)
    except model_dir_files.ModelDirError as err:
        raise WarmStartError(f"warm start: {err}") from err


def read_embedding_spec(model_dir: str) -> features.EmbeddingSpec:
    """Reads ``embedding_spec.json`` of a donor model dir."""
    try:
        raw = model_dir_files.read_spec(model_dir)
    except model_dir_files.ModelDirError as err:
        raise WarmStartError(f"warm start: {err}") from err
    if raw is None:
        raise WarmStartError(
            f"warm start: donor {model_dir} has no {features.EMBEDDING_SPEC_FILE}; "
            "it was not exported by this project's Trainer"
        )
    try:
        return features.EmbeddingSpec(**raw)
    except TypeError as err:
        path = os.path.join(model_dir, features.EMBEDDING_SPEC_FILE)
        raise WarmStartError(f"warm start: {path} is not a valid embedding spec: {err}") from err


def check_compatible(donor: features.EmbeddingSpec, receiver: features.EmbeddingSpec) -> None:
    """Raises if cross_buckets, embedding_dim or hashing_scheme differ."""
    donor_key, receiver_key = donor.compatibility_key(), receiver.compatibility_key()
    mismatches = [
        f"{name}: donor {donor_key[name]!r} != this model {receiver_key[name]!r}"
        for name in donor_key
        if donor_key[name] != receiver_key[name]
    ]
    if mismatches:
        raise WarmStartError("warm start: incompatible donor embedding; " + "; ".join(mismatches))


def read_day_hour_table(model_dir: str) -> np.ndarray:
    """Reads the table stored under ``features.EMBEDDING_CHECKPOINT_KEY``."""
    prefix = os.path.join(model_dir, VARIABLES_PREFIX)
    try:
        reader = tf.train.load_checkpoint(prefix)
    except (tf.errors.OpError, ValueError) as err:
        raise WarmStartError(f"warm start: cannot read checkpoint {prefix}: {err}") from err
    if not reader.has_tensor(features.EMBEDDING_CHECKPOINT_KEY):
        raise WarmStartError(
            f"warm start: checkpoint {prefix} has no {features.EMBEDDING_CHECKPOINT_KEY!r}"
        )
    try:
        return reader.get_tensor(features.EMBEDDING_CHECKPOINT_KEY)
    except (tf.errors.OpError, IndexError, ValueError) as err:  # truncated / corrupt data file
        raise WarmStartError(
            f"warm start: donor {model_dir} is corrupt: cannot read its day x hour table "
            f"from {prefix}: {type(err).__name__}: {err}"
        ) from err


def load_donor_embedding(
    base_model: str | None, receiver: features.EmbeddingSpec
) -> DonorEmbedding:
    """Resolves, validates and reads the donor's day x hour table."""
    if not base_model:
        raise WarmStartError(
            "warm start requested but the Trainer got no base_model; wire a donor Model "
            "artifact into Trainer(base_model=...) or clear warm_start_mode"
        )
    model_dir = resolve_saved_model_dir(base_model)
    spec = read_embedding_spec(model_dir)
    check_compatible(spec, receiver)
    table = read_day_hour_table(model_dir)
    expected = (receiver.cross_buckets, receiver.embedding_dim)
    if tuple(table.shape) != expected:
        raise WarmStartError(
            f"warm start: donor table in {model_dir} has shape {tuple(table.shape)}, "
            f"its {features.EMBEDDING_SPEC_FILE} promises {expected}"
        )
    return DonorEmbedding(model_dir=model_dir, spec=spec, table=table)
