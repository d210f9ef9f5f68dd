"""Find a pushed traffic-embedding model and read it and the files beside it.

A model is named by ``--model DIR`` (a pushed ``serving/<city>/<version>`` dir, a Trainer
model artifact dir, or ``latest:<city>``, resolved like a warm-start donor), or by
``--city`` alone: the newest pushed version under ``<output>/serving/<city>/`` (only
blessed models are pushed). Anything that is not one of our models is a
``ModelError``: the CLI prints its one line and exits with code 2.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tensorflow as tf

from components.atomic_pusher.publish import published_versions
from deploy.mlmd import donors
from deploy.runners.local.runner import LocalLayout
from pipeline.config import WarmStartConfig, builtin_cities
from transforms import features, keras_mode
from transforms import model_dir as model_dir_files
from transforms.export import read_embedding_tsv

SERVING_SIGNATURE = "serving_default"


class ModelError(ValueError):
    """No usable model: the CLI prints the message and exits with code 2."""


@dataclass
class ModelFiles:
    """A model directory and what is recorded beside the SavedModel."""

    model_dir: str
    spec: dict  # embedding_spec.json
    vectors: np.ndarray  # [168, embedding_dim], features.all_day_hours() order
    approaches: list[tuple[str, str]] | None  # approaches.json; None for older models
    warm_start: dict | None  # warm_start.json; None for a cold start
    output_dir: str | None = None  # the local output dir it was found in, if any
    _serving: tuple | None = field(default=None, repr=False)  # (loaded model, signature)

    def serving(self):
        """The model's ``serving_default`` (loaded once, then reused)."""
        if self._serving is None:
            self._serving = serving_function(self.model_dir)
        return self._serving[1]

    @property
    def city(self) -> str:
        return str(self.spec.get("city", ""))

    @property
    def timezone(self) -> str:
        return str(self.spec.get("timezone", ""))

    @property
    def version(self) -> str:
        return os.path.basename(self.model_dir.rstrip("/"))


def _serving_dir(model: str) -> str:
    """The SavedModel dir of ``model`` (``transforms.model_dir``), else ``model`` itself
    (``load`` then says what is missing)."""
    return model_dir_files.find_saved_model_dir(model) or model


def latest_pushed(output_dir: str, city: str) -> str:
    """The newest pushed version dir of ``city`` under ``output_dir`` (LocalLayout)."""
    base = LocalLayout(Path(output_dir).resolve()).serving_base(city)
    versions = published_versions(str(base))
    if versions:
        return str(base / str(versions[-1]))
    if not base.is_dir() and city not in builtin_cities():
        raise ModelError(
            f"unknown city {city!r}: no built-in config and no pushed models in {base}"
        )
    raise ModelError(f"no pushed model of city {city!r} in {base}; run the pipeline first")


def locate(city: str | None, output_dir: str | None, model: str | None) -> str:
    """The model dir named by ``model`` (dir or ``latest:<city>``), else the latest pushed."""
    if model and model.startswith(donors.LATEST_PREFIX):
        layout = LocalLayout(Path(output_dir or "output").resolve())
        source = WarmStartConfig(from_city=model[len(donors.LATEST_PREFIX) :], mode="frozen")
        try:
            return _serving_dir(donors.resolve_donor(source, layout).uri)
        except (donors.DonorError, FileNotFoundError) as err:
            raise ModelError(str(err)) from err
    if model:
        path = model if "://" in model else os.path.abspath(model)
        if not tf.io.gfile.isdir(path):
            raise ModelError(f"--model {model}: no such directory")
        return _serving_dir(path)
    if not city:
        raise ModelError("name a model: --city CITY (latest pushed) or --model DIR")
    return latest_pushed(output_dir or "output", city)


def _read_json(path: str):
    if not tf.io.gfile.exists(path):
        return None
    with tf.io.gfile.GFile(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise ModelError(f"{path}: invalid JSON: {err}") from err


def read_approaches(model_dir: str) -> list[tuple[str, str]] | None:
    """The (intersection_id, direction) pairs of ``approaches.json``; None when absent.

    The file (``transforms.export.write_approaches``) is a list of
    ``{"intersection_id": ..., "direction": ...}`` records.
    """
    path = os.path.join(model_dir, features.APPROACHES_FILE)
    if not tf.io.gfile.exists(path):
        return None
    records = _read_json(path)
    try:
        return sorted((str(r[features.INTERSECTION]), str(r[features.DIRECTION])) for r in records)
    except (KeyError, TypeError) as err:
        raise ModelError(
            f"{path}: expected a list of {{{features.INTERSECTION!r}, {features.DIRECTION!r}}} "
            "records"
        ) from err


def load(model_dir: str, output_dir: str | None = None, city: str | None = None) -> ModelFiles:
    """Reads a model dir; raises ModelError when it is not a traffic-embedding model."""
    model_dir = _serving_dir(model_dir)
    spec = _read_json(os.path.join(model_dir, features.EMBEDDING_SPEC_FILE))
    if spec is None or not tf.io.gfile.exists(os.path.join(model_dir, "saved_model.pb")):
        raise ModelError(
            f"{model_dir} is not a traffic-embedding model "
            f"(needs saved_model.pb and {features.EMBEDDING_SPEC_FILE})"
        )
    if city and spec.get("city") and spec["city"] != city:
        raise ModelError(f"{model_dir} is a model of {spec['city']!r}, not of {city!r}")
    try:
        vectors = read_embedding_tsv(model_dir)
    except (ValueError, OSError) as err:
        raise ModelError(f"{model_dir}: unreadable {features.EMBEDDING_TSV}: {err}") from err
    return ModelFiles(
        model_dir=model_dir,
        spec=spec,
        vectors=vectors,
        approaches=read_approaches(model_dir),
        warm_start=_read_json(os.path.join(model_dir, features.WARM_START_FILE)),
        output_dir=output_dir,
    )


def find(city: str | None, output_dir: str | None = None, model: str | None = None) -> ModelFiles:
    """``locate`` then ``load``: the model of the CLI's ``--city/--output/--model``."""
    return load(locate(city, output_dir, model), output_dir=output_dir, city=city)


def serving_function(model_dir: str):
    """The SavedModel's ``serving_default`` concrete function."""
    keras_mode.require_legacy_keras("explain/predict")
    try:
        loaded = tf.saved_model.load(model_dir)
    # A truncated saved_model.pb fails to parse (OSError); truncated variables fail while
    # they are restored (IndexError "Read less bytes than requested", DataLossError).
    except (OSError, IndexError, ValueError, tf.errors.OpError) as err:
        raise ModelError(
            f"{model_dir}: corrupt or truncated model, cannot load it: {type(err).__name__}: {err}"
        ) from err
    if SERVING_SIGNATURE not in loaded.signatures:
        raise ModelError(f"{model_dir}: the SavedModel has no {SERVING_SIGNATURE} signature")
    return loaded, loaded.signatures[SERVING_SIGNATURE]


def required_features(signature) -> list[str]:
    """Feature keys the signature's tf.Example parser requires (dense keys, no default).

    Read from the ``ParseExampleV2`` ops of the signature's graph, so a model exported
    before ``serving_default`` parsed only ``features.MODEL_RAW_FEATURES`` (it also
    requires ``timestamp_utc``) is sent exactly what it asks for.
    """
    graph_def = signature.graph.as_graph_def()
    functions = [graph_def.node, *(f.node_def for f in graph_def.library.function)]
    keys: set[str] = set()
    for nodes in functions:
        consts = {n.name: n for n in nodes if n.op == "Const"}
        for node in nodes:
            if node.op != "ParseExampleV2":
                continue
            # inputs: serialized, names, sparse_keys, dense_keys, ragged_keys, dense_defaults...
            dense_keys = consts.get(node.input[3].split(":")[0])
            if dense_keys is None:
                continue
            values = tf.make_ndarray(dense_keys.attr["value"].tensor).reshape(-1)
            keys.update(v.decode() for v in values)
    if not keys:  # a parser we cannot read: send the contract's features
        return list(features.MODEL_RAW_FEATURES)
    return sorted(keys)
