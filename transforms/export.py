"""Exports the trained model: SavedModel signatures, embedding TSVs and embedding_spec.json.

Layout of ``serving_model_dir`` (everything travels together through Pusher)::

    saved_model.pb, variables/      serving_default, transform_features signatures
    embedding_spec.json             features.EmbeddingSpec (+ city, timezone)
    embedding.tsv, metadata.tsv     168 day x hour vectors, TensorBoard projector format
    approaches.json                 the (intersection_id, direction) pairs trained on
    warm_start.json                 only for warm-started models: donor path and mode
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from transforms import features
from transforms.collisions import cell_buckets
from transforms.model import day_hour_table

SERVING_INPUT_NAME = "examples"


def _serialized_examples_spec() -> tf.TensorSpec:
    return tf.TensorSpec(shape=[None], dtype=tf.string, name=SERVING_INPUT_NAME)


def serving_signatures(model: keras.Model, tft_output: tft.TFTransformOutput) -> dict[str, Any]:
    """``serving_default`` (raw examples -> predictions) and ``transform_features``.

    ``serving_default`` parses only ``features.MODEL_RAW_FEATURES`` (what the model
    uses), so a client sends nothing else; ``transform_features`` parses every raw
    feature (the Evaluator reads the transformed labels through it). Attaches the TFT
    layer to ``model`` as ``model.tft_layer`` so it is saved with it.
    """
    model.tft_layer = tft_output.transform_features_layer()
    raw_spec = tft_output.raw_feature_spec()
    serving_spec = {k: raw_spec[k] for k in features.MODEL_RAW_FEATURES}
    input_names = list(model.input_names)

    @tf.function(input_signature=[_serialized_examples_spec()], autograph=False)
    def serve(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(examples, serving_spec)
        transformed = model.tft_layer(raw)
        return model({name: transformed[name] for name in input_names})

    @tf.function(input_signature=[_serialized_examples_spec()], autograph=False)
    def transform_features(examples: tf.Tensor) -> dict[str, tf.Tensor]:
        raw = tf.io.parse_example(examples, raw_spec)
        return model.tft_layer(raw)

    return {
        "serving_default": serve.get_concrete_function(),
        "transform_features": transform_features.get_concrete_function(),
    }


def day_hour_vectors(table: np.ndarray, cross_buckets: int) -> np.ndarray:
    """The [168, embedding_dim] vectors of the cells, in ``features.all_day_hours()`` order."""
    if table.shape[0] != cross_buckets:
        raise ValueError(f"embedding table has {table.shape[0]} rows, expected {cross_buckets}")
    return table[np.asarray(cell_buckets(cross_buckets))]


def write_embedding_files(
    table: np.ndarray,
    spec: features.EmbeddingSpec,
    out_dir: str,
    warm_start_record: dict[str, str] | None = None,
) -> None:
    """Writes embedding_spec.json, embedding.tsv, metadata.tsv (and warm_start.json)."""
    tf.io.gfile.makedirs(out_dir)
    vectors = day_hour_vectors(table, spec.cross_buckets)
    with tf.io.gfile.GFile(os.path.join(out_dir, features.EMBEDDING_SPEC_FILE), "w") as f:
        json.dump(dataclasses.asdict(spec), f, indent=2, sort_keys=True)
    with tf.io.gfile.GFile(os.path.join(out_dir, features.EMBEDDING_TSV), "w") as f:
        f.write("".join("\t".join(repr(float(v)) for v in row) + "\n" for row in vectors))
    # A single-column metadata file has no header line (TensorBoard projector format).
    with tf.io.gfile.GFile(os.path.join(out_dir, features.EMBEDDING_METADATA_TSV), "w") as f:
        f.write("".join(f"{features.day_hour_label(d, h)}\n" for d, h in features.all_day_hours()))
    if warm_start_record:
        with tf.io.gfile.GFile(os.path.join(out_dir, features.WARM_START_FILE), "w") as f:
            json.dump(warm_start_record, f, indent=2, sort_keys=True)


def read_embedding_tsv(model_dir: str) -> np.ndarray:
    """Reads the [168, embedding_dim] vectors written by ``write_embedding_files``."""
    path = os.path.join(model_dir, features.EMBEDDING_TSV)
    with tf.io.gfile.GFile(path) as f:
        rows = [line.rstrip("\n").split("\t") for line in f if line.strip()]
    if len(rows) != features.DAY_HOUR_CELLS:
        raise ValueError(f"{path}: {len(rows)} rows, expected {features.DAY_HOUR_CELLS}")
    return np.asarray(rows, dtype=np.float64)


def write_approaches(approaches: list[tuple[str, str]], out_dir: str) -> None:
    """Writes ``approaches.json``: the (intersection_id, direction) pairs seen in training."""
    records = [{features.INTERSECTION: i, features.DIRECTION: d} for i, d in approaches]
    with tf.io.gfile.GFile(os.path.join(out_dir, features.APPROACHES_FILE), "w") as f:
        json.dump(records, f, indent=1)


def export_serving_model(
    model: keras.Model,
    tft_output: tft.TFTransformOutput,
    serving_model_dir: str,
    spec: features.EmbeddingSpec,
    warm_start_record: dict[str, str] | None = None,
    approaches: list[tuple[str, str]] | None = None,
) -> None:
    """Saves the SavedModel (TF format) and the embedding files into ``serving_model_dir``.

    The SavedModel's root is a ``tf.Module`` that tracks the day x hour layer of
    ``build_model`` as its attribute ``features.DAY_HOUR_EMBEDDING_LAYER`` and the model
    as ``model``. A checkpoint names each variable by its shortest path from the root,
    so the table's key is ``features.EMBEDDING_CHECKPOINT_KEY`` (what warm start reads),
    not a positional Keras key. Consumers use the signatures (serving, TFMA) and the
    checkpoint; the model is not reloaded as a Keras model.
    """
    signatures = serving_signatures(model, tft_output)
    root = tf.Module()
    setattr(
        root,
        features.DAY_HOUR_EMBEDDING_LAYER,
        model.get_layer(features.DAY_HOUR_EMBEDDING_LAYER),
    )
    root.model = model
    tf.saved_model.save(root, serving_model_dir, signatures=signatures)
    write_embedding_files(day_hour_table(model), spec, serving_model_dir, warm_start_record)
    if approaches is not None:
        write_approaches(approaches, serving_model_dir)
