"""Where an exported model's files are: the one resolver of the export format.

A model is named by a pushed version dir (``serving/<city>/<version>``, the SavedModel
itself), by a Trainer ``Model`` artifact uri (the SavedModel under ``Format-Serving/``),
or by that ``Format-Serving`` path, which TFX hands to ``run_fn`` for an imported model
even when the imported dir is itself the SavedModel. Warm start, donors, lineage and the
insights all resolve through here, and read ``embedding_spec.json`` through here.

Local paths are read with the standard library, so callers that must stay light (lineage
imports no TensorFlow) can use it; remote paths (``gs://...``) go through ``tf.io.gfile``,
imported only then.
"""

from __future__ import annotations

import json
import os

from transforms import features

SERVING_SUBDIR = "Format-Serving"  # TFX's path_utils.serving_model_dir(uri)
SAVED_MODEL_FILE = "saved_model.pb"


class ModelDirError(ValueError):
    """A model dir's files are missing or unreadable; the message names the path."""


def _is_remote(path: str) -> bool:
    return "://" in path


def _exists(path: str) -> bool:
    if _is_remote(path):
        import tensorflow as tf

        return tf.io.gfile.exists(path)
    return os.path.exists(path)


def _read_text(path: str) -> str:
    if _is_remote(path):
        import tensorflow as tf

        with tf.io.gfile.GFile(path) as f:
            return f.read()
    with open(path) as f:
        return f.read()


def candidates(model: str) -> list[str]:
    """The dirs that may hold the SavedModel of ``model``, most direct first."""
    model = model.rstrip("/")
    found = [model, os.path.join(model, SERVING_SUBDIR)]
    if os.path.basename(model) == SERVING_SUBDIR:
        found.append(os.path.dirname(model))
    return found


def find_saved_model_dir(model: str) -> str | None:
    """The dir holding ``saved_model.pb`` for ``model`` (see :func:`candidates`), or None."""
    for candidate in candidates(model):
        if _exists(os.path.join(candidate, SAVED_MODEL_FILE)):
            return candidate
    return None


def saved_model_dir(model: str) -> str:
    """Like :func:`find_saved_model_dir`; :class:`ModelDirError` naming the dirs tried."""
    found = find_saved_model_dir(model)
    if found is None:
        tried = ", ".join(candidates(model))
        raise ModelDirError(f"no {SAVED_MODEL_FILE} in any of {tried}")
    return found


def read_spec(model: str) -> dict | None:
    """``embedding_spec.json`` of ``model`` (at the dir or its SavedModel dir) as a dict;
    None when there is none; :class:`ModelDirError` when it is not valid JSON."""
    for candidate in candidates(model):
        path = os.path.join(candidate, features.EMBEDDING_SPEC_FILE)
        if _exists(path):
            try:
                return json.loads(_read_text(path))
            except json.JSONDecodeError as err:
                raise ModelDirError(f"{path}: invalid JSON: {err}") from err
    return None
