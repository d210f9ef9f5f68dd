"""AtomicPusher executor: check the blessing, then publish a new version atomically."""

from __future__ import annotations

import logging
from typing import Any

from tfx import types
from tfx.components.util import model_utils
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import path_utils

from components.atomic_pusher import publish

PUSHED = "pushed"
PUSHED_DESTINATION = "pushed_destination"
PUSHED_VERSION = "pushed_version"


class Executor(base_executor.BaseExecutor):
    """Pushes only blessed models; records what happened on the PushedModel artifact."""

    def Do(
        self,
        input_dict: dict[str, list[types.Artifact]],
        output_dict: dict[str, list[types.Artifact]],
        exec_properties: dict[str, Any],
    ) -> None:
        self._log_startup(input_dict, output_dict, exec_properties)
        model = artifact_utils.get_single_instance(input_dict["model"])
        blessing = artifact_utils.get_single_instance(input_dict["model_blessing"])
        pushed_model = artifact_utils.get_single_instance(output_dict["pushed_model"])
        if not model_utils.is_model_blessed(blessing):
            logging.info("Model %s is not blessed; nothing is pushed.", model.uri)
            pushed_model.set_int_custom_property(PUSHED, 0)
            return
        serving_base = exec_properties["serving_base"]
        model_dir = path_utils.serving_model_path(
            model.uri, path_utils.is_old_model_artifact(model)
        )
        version = publish.next_version(serving_base)
        final_dir = publish.publish_atomically({"": model_dir}, serving_base, version)
        logging.info("Pushed blessed model to %s", final_dir)
        pushed_model.set_int_custom_property(PUSHED, 1)
        pushed_model.set_string_custom_property(PUSHED_DESTINATION, final_dir)
        pushed_model.set_string_custom_property(PUSHED_VERSION, str(version))
