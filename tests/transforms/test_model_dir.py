"""transforms.model_dir: the one resolver of the export format's dirs and spec file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tfx.utils import path_utils

from transforms import features, model_dir


def _saved_model(directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / model_dir.SAVED_MODEL_FILE).write_bytes(b"")
    (directory / features.EMBEDDING_SPEC_FILE).write_text(json.dumps({"city": "london"}))
    return str(directory)


def test_the_serving_subdir_is_tfx_s():
    assert path_utils.serving_model_dir("/m") == os.path.join("/m", model_dir.SERVING_SUBDIR)


def test_a_pushed_dir_an_artifact_uri_and_its_format_serving_path_resolve(tmp_path):
    pushed = _saved_model(tmp_path / "serving" / "london" / "17")
    artifact = tmp_path / "Trainer" / "model" / "5"
    nested = _saved_model(artifact / model_dir.SERVING_SUBDIR)
    assert model_dir.saved_model_dir(pushed) == pushed
    assert model_dir.saved_model_dir(str(artifact)) == nested
    # TFX hands an imported pushed model to run_fn as <dir>/Format-Serving.
    assert model_dir.saved_model_dir(os.path.join(pushed, model_dir.SERVING_SUBDIR)) == pushed
    assert model_dir.read_spec(str(artifact)) == {"city": "london"}


def test_missing_and_invalid_files_are_named(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert model_dir.find_saved_model_dir(str(empty)) is None
    with pytest.raises(model_dir.ModelDirError, match=r"no saved_model\.pb in any of .*empty"):
        model_dir.saved_model_dir(str(empty))
    assert model_dir.read_spec(str(empty)) is None
    (empty / features.EMBEDDING_SPEC_FILE).write_text("{not json")
    with pytest.raises(model_dir.ModelDirError, match=r"empty/embedding_spec.json: invalid JSON"):
        model_dir.read_spec(str(empty))


def test_local_paths_import_no_tensorflow(tmp_path):
    pushed = _saved_model(tmp_path / "m")
    probe = (
        "import sys; from transforms import model_dir; "
        f"assert model_dir.read_spec({pushed!r}); print('tensorflow' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr
