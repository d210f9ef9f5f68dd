"""Pins the process to Keras 2 (``tf_keras``) before TensorFlow is imported.

TF 2.16's ``tf.keras`` is Keras 3, but TFT and TFMA need Keras 2. Every entry
point of this project (CLI, executors, Beam workers, tests) imports one of our
packages first, and each package ``__init__`` imports this module, so the mode is
set once, the same way, in every process. Child processes inherit it through the
environment.
"""

from __future__ import annotations

import os
import sys

LEGACY_KERAS_ENV = "TF_USE_LEGACY_KERAS"


def ensure_legacy_keras() -> None:
    """Sets ``TF_USE_LEGACY_KERAS=1``; fails if TensorFlow already chose Keras 3."""
    if os.environ.get(LEGACY_KERAS_ENV) != "1" and "tensorflow" in sys.modules:
        raise RuntimeError(
            "TensorFlow was imported before TF_USE_LEGACY_KERAS=1 was set; import a "
            "traffic-pipeline package (or set the variable) before tensorflow."
        )
    os.environ[LEGACY_KERAS_ENV] = "1"


ensure_legacy_keras()
