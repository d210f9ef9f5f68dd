"""AtomicPusher executor: the stock Pusher's behaviour, with an atomic versioned publish.

Subclasses TFX's Pusher executor and keeps everything it does (the blessing check, the
model path, the archive copy into the PushedModel artifact, the ``pushed`` /
``pushed_destination`` / ``pushed_version`` properties); only the copy to the serving
location differs: staged beside it and renamed into ``<serving_base>/<version>``
(``publish.py``), so a reader never sees a half-written version.
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
        version = publish.next_version(serving_base)
        final_dir = publish.publish_atomically({"": model_path}, serving_base, version)
        logging.info("Pushed blessed model to %s", final_dir)
        io_utils.copy_dir(model_path, pushed_model.uri)  # the stock Pusher's archive copy
        self._MarkPushed(pushed_model, pushed_destination=final_dir, pushed_version=str(version))
