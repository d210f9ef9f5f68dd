"""AtomicPusher executor: the stock Pusher's behaviour, with an atomic versioned publish.

Subclasses TFX's Pusher executor and keeps everything it does (the blessing check, the
model path, the archive copy into the PushedModel artifact, the ``pushed`` /
``pushed_destination`` / ``pushed_version`` properties); only the copy to the serving
location differs:

- Everything is written first: the model into a hidden staging dir beside
  ``<serving_base>/<version>`` and the stock archive copy into the PushedModel
  artifact; then both are synced, and one rename publishes the version
  (``publish.staged_version``). A failure before that rename (a full disk, a crash)
  publishes nothing: a reader never sees a half-written version, and a failed run
  never leaves a servable one behind.
- A model that is already the latest version (same content fingerprint, e.g. a re-run
  after the Pusher failed, or a re-evaluated unchanged model) is not published again:
  the PushedModel records that existing version (``pushed_destination``,
  ``pushed_version``), as the stock Pusher does when its destination already exists,
  with ``already_published`` = 1.
"""

from __future__ import annotations

from typing import Any

from absl import logging
from tfx import types
from tfx.components.pusher import executor as stock
from tfx.types import artifact_utils, standard_component_specs
from tfx.utils import io_utils

from components.atomic_pusher import publish

SERVING_BASE_KEY = "serving_base"
FINGERPRINT_PROPERTY = "model_fingerprint"
ALREADY_PUBLISHED_PROPERTY = "already_published"


class Executor(stock.Executor):
    """Pushes only blessed models, each to a new version directory, atomically."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        pushed_model = artifact_utils.get_single_instance(
            output_dict[standard_component_specs.PUSHED_MODEL_KEY]
        )
        if not self.CheckBlessing(input_dict):
            self._MarkNotPushed(pushed_model)
            return
        model_path = self.GetModelPath(input_dict)
        serving_base = exec_properties[SERVING_BASE_KEY]
        model_fingerprint = publish.fingerprint(model_path)
        pushed_model.set_string_custom_property(FINGERPRINT_PROPERTY, model_fingerprint)
        existing = publish.latest_if_same(serving_base, model_fingerprint)
        if existing is not None:
            destination = publish.version_dir(serving_base, existing)
            logging.info("Same model (%s) already published: %s", model_fingerprint, destination)
            io_utils.copy_dir(model_path, pushed_model.uri)  # the stock Pusher's archive copy
            pushed_model.set_int_custom_property(ALREADY_PUBLISHED_PROPERTY, 1)
            self._MarkPushed(
                pushed_model, pushed_destination=destination, pushed_version=str(existing)
            )
            return
        version = publish.next_version(serving_base)
        with publish.staged_version(serving_base, version) as staging:
            io_utils.copy_dir(model_path, staging)
            io_utils.copy_dir(model_path, pushed_model.uri)  # the stock Pusher's archive copy
            publish.sync_tree(pushed_model.uri)
        final_dir = publish.version_dir(serving_base, version)
        logging.info("Pushed blessed model to %s", final_dir)
        pushed_model.set_int_custom_property(ALREADY_PUBLISHED_PROPERTY, 0)
        self._MarkPushed(pushed_model, pushed_destination=final_dir, pushed_version=str(version))
