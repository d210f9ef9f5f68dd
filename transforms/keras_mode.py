"""Keras 2 mode (``tf_keras``): set once by each entry point, checked where Keras runs.

TF 2.16's ``tf.keras`` is Keras 3, but TFT, TFMA and our model need Keras 2, and
TensorFlow reads ``TF_USE_LEGACY_KERAS`` when it is imported. So each entry point calls
:func:`use_legacy_keras` before anything imports TensorFlow: the ``traffic-pipeline``
CLI's ``main()``, ``tests/conftest.py`` and each benchmark's ``main()``. Child processes
(Beam workers) inherit the variable; the container image sets it (``deploy/Dockerfile``).
Code that trains, runs or loads models calls :func:`require_legacy_keras`, which fails
loudly if the process skipped that step. Importing this module has no side effect.
"""

from __future__ import annotations

import os
import sys

LEGACY_KERAS_ENV = "TF_USE_LEGACY_KERAS"
_ON = ("1", "true", "True")  # the values TensorFlow accepts


def use_legacy_keras() -> None:
    """Sets ``TF_USE_LEGACY_KERAS=1``; raises if TensorFlow was imported without it."""
    if os.environ.get(LEGACY_KERAS_ENV) in _ON:
        return
    if "tensorflow" in sys.modules:
        raise RuntimeError(
            f"TensorFlow was imported before {LEGACY_KERAS_ENV}=1 was set; call "
            "transforms.keras_mode.use_legacy_keras() before importing TensorFlow "
            f"(or export {LEGACY_KERAS_ENV}=1)"
        )
    os.environ[LEGACY_KERAS_ENV] = "1"


def require_legacy_keras(where: str) -> None:
    """Raises a one-line RuntimeError naming ``where`` unless the process uses Keras 2."""
    hint = (
        f"call transforms.keras_mode.use_legacy_keras() in the entry point before "
        f"TensorFlow is imported (or export {LEGACY_KERAS_ENV}=1)"
    )
    if os.environ.get(LEGACY_KERAS_ENV) not in _ON:
        raise RuntimeError(f"{where} needs Keras 2 but {LEGACY_KERAS_ENV}=1 is not set: {hint}")
    tf = sys.modules.get("tensorflow")
    version = getattr(tf.keras, "version", None) if tf is not None else None
    if version is not None and version().startswith("3."):  # tf_keras has no version()
        raise RuntimeError(
            f"{where} needs Keras 2 but tf.keras is Keras {version()}: TensorFlow was "
            f"imported before {LEGACY_KERAS_ENV}=1 was set; {hint}"
        )
