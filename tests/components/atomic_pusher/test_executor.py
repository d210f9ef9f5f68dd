"""The AtomicPusher executor on real TFX artifacts: nothing published unless all is written,
and the latest version is never published twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from tfx.types import standard_artifacts
from tfx.utils import path_utils

from components.atomic_pusher import executor, publish


def _inputs(tmp_path):
    model = standard_artifacts.Model()
    model.uri = str(tmp_path / "Trainer" / "model" / "7")
    serving = Path(path_utils.serving_model_path(model.uri))
    (serving / "variables").mkdir(parents=True)
    (serving / "saved_model.pb").write_bytes(b"pb" * 1000)
    (serving / "variables" / "variables.index").write_bytes(b"idx")
    blessing = standard_artifacts.ModelBlessing()
    blessing.uri = str(tmp_path / "Evaluator" / "blessing" / "8")
    blessing.set_int_custom_property("blessed", 1)
    return {"model": [model], "model_blessing": [blessing]}


def _push(inputs, pushed_uri, serving_base):
    pushed = standard_artifacts.PushedModel()
    pushed.uri = str(pushed_uri)
    executor.Executor().Do(
        inputs, {"pushed_model": [pushed]}, {executor.SERVING_BASE_KEY: str(serving_base)}
    )
    return pushed


def test_a_failed_archive_copy_publishes_no_version(tmp_path):
    inputs, base = _inputs(tmp_path), tmp_path / "serving" / "london"
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(Exception):  # noqa: B017 - the copy error itself propagates
        _push(inputs, blocker / "pushed_model" / "9", base)  # cannot be created
    assert publish.published_versions(str(base)) == []
    assert list(base.iterdir()) == []  # no staging left either


def test_the_same_model_again_records_the_existing_version(tmp_path):
    inputs, base = _inputs(tmp_path), tmp_path / "serving" / "london"
    first = _push(inputs, tmp_path / "Pusher" / "pushed_model" / "9", base)
    (version,) = publish.published_versions(str(base))
    assert first.get_string_custom_property("pushed_version") == str(version)
    assert first.get_int_custom_property(executor.ALREADY_PUBLISHED_PROPERTY) == 0

    again = _push(inputs, tmp_path / "Pusher" / "pushed_model" / "10", base)
    assert publish.published_versions(str(base)) == [version]  # no second copy
    assert again.get_int_custom_property("pushed") == 1
    assert again.get_string_custom_property("pushed_version") == str(version)
    assert again.get_string_custom_property("pushed_destination") == str(base / str(version))
    assert again.get_int_custom_property(executor.ALREADY_PUBLISHED_PROPERTY) == 1
    fingerprint = first.get_string_custom_property(executor.FINGERPRINT_PROPERTY)
    assert fingerprint == again.get_string_custom_property(executor.FINGERPRINT_PROPERTY)
    assert (tmp_path / "Pusher" / "pushed_model" / "10" / "saved_model.pb").is_file()
