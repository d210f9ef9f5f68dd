"""Keras mode: set by entry points, never on import; the checks fail loudly when skipped.

Cases that depend on what a process imported run in a fresh interpreter without
``TF_USE_LEGACY_KERAS`` (this test session already imported TensorFlow in Keras 2 mode).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from transforms.keras_mode import LEGACY_KERAS_ENV

REPO_ROOT = Path(__file__).resolve().parents[2]


def fresh_python(code: str) -> subprocess.CompletedProcess:
    """Runs ``code`` in a new interpreter with the repo on the path and no Keras mode."""
    env = {k: v for k, v in os.environ.items() if k != LEGACY_KERAS_ENV}
    env.update(PYTHONPATH=str(REPO_ROOT), TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )


def test_importing_the_packages_loads_no_tensorflow_and_sets_nothing():
    result = fresh_python(
        "import os, sys\n"
        "import pipeline.config, deploy.cli, components, transforms, deploy\n"
        "import components.traffic_example_gen, components.atomic_pusher\n"
        f"print('tensorflow' in sys.modules, os.environ.get('{LEGACY_KERAS_ENV}'))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "None"]


def test_entry_point_sets_the_mode_and_tensorflow_then_uses_tf_keras():
    result = fresh_python(
        "from transforms import keras_mode\n"
        "keras_mode.use_legacy_keras()\n"
        "import tensorflow as tf\n"
        "keras_mode.require_legacy_keras('test')\n"
        "print(tf.keras.Model.__module__.split('.')[0])"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "tf_keras"


def test_setting_the_mode_after_tensorflow_was_imported_fails_loudly():
    result = fresh_python(
        "import tensorflow\nfrom transforms import keras_mode\nkeras_mode.use_legacy_keras()"
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: TensorFlow was imported before TF_USE_LEGACY_KERAS=1")
    assert "use_legacy_keras()" in last


def test_keras_3_already_chosen_is_detected_even_if_the_variable_is_set_later():
    result = fresh_python(
        "import os\n"
        "import tensorflow as tf\n"
        "tf.keras.layers  # resolves tf.keras: Keras 3\n"
        f"os.environ['{LEGACY_KERAS_ENV}'] = '1'\n"
        "from transforms import keras_mode\n"
        "keras_mode.require_legacy_keras('Trainer run_fn')"
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "Trainer run_fn needs Keras 2 but tf.keras is Keras 3" in last


def test_cli_main_sets_the_mode_before_any_command():
    result = fresh_python(
        "import os, sys\n"
        "from deploy.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        f"    print('MODE', os.environ.get('{LEGACY_KERAS_ENV}'))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "MODE 1"


def test_trainer_runner_and_insights_refuse_to_run_without_the_mode(monkeypatch, tmp_path):
    from deploy.insights.model_files import serving_function
    from deploy.runners.local.runner import LocalLayout, run_pipeline
    from transforms.trainer import run_fn

    monkeypatch.delenv(LEGACY_KERAS_ENV)
    with pytest.raises(RuntimeError, match=r"^Trainer run_fn needs Keras 2 .*use_legacy_keras"):
        run_fn(None)
    with pytest.raises(RuntimeError, match=r"^local pipeline run needs Keras 2"):
        run_pipeline(None, LocalLayout(tmp_path), str(tmp_path))
    with pytest.raises(RuntimeError, match=r"^explain/predict needs Keras 2"):
        serving_function(str(tmp_path))
