"""TFX component spec for AtomicPusher."""

from __future__ import annotations

from tfx import types
from tfx.dsl.components.base import base_component, executor_spec
from tfx.types import standard_artifacts
from tfx.types.component_spec import ChannelParameter, ExecutionParameter

from components.atomic_pusher import executor


class AtomicPusherSpec(types.ComponentSpec):
    """Inputs: the trained model and its blessing; output: the PushedModel record."""

    PARAMETERS = {
        "serving_base": ExecutionParameter(type=str),
    }
    INPUTS = {
        "model": ChannelParameter(type=standard_artifacts.Model),
        "model_blessing": ChannelParameter(type=standard_artifacts.ModelBlessing),
    }
    OUTPUTS = {
        "pushed_model": ChannelParameter(type=standard_artifacts.PushedModel),
    }


class AtomicPusher(base_component.BaseComponent):
    """Publishes a blessed model to ``<serving_base>/<version>/`` atomically.

    The version directory holds the SavedModel plus the embedding TSVs and
    ``embedding_spec.json`` that the Trainer wrote beside it. Unblessed models are
    recorded as not pushed and nothing is written.
    """

    SPEC_CLASS = AtomicPusherSpec
    EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

    def __init__(
        self, model: types.BaseChannel, model_blessing: types.BaseChannel, serving_base: str
    ):
        super().__init__(
            spec=AtomicPusherSpec(
                model=model,
                model_blessing=model_blessing,
                serving_base=serving_base,
                pushed_model=types.Channel(type=standard_artifacts.PushedModel),
            )
        )
