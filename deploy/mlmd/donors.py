"""Resolve a warm-start donor: a model dir, ``latest:<city>`` or ``previous`` from MLMD.

A donor is a directory that holds (directly or under ``Format-Serving/``) a SavedModel
and its ``embedding_spec.json``. The Trainer checks compatibility; this module only
finds the donor and says which one it chose.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import tensorflow as tf

from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from pipeline.config import PREVIOUS_MODEL, CityConfig, WarmStartConfig
from transforms import features, model_dir, warm_start

LATEST_PREFIX = "latest:"


class DonorError(ValueError):
    """No usable donor model could be found."""


@dataclass(frozen=True)
class Donor:
    """The chosen donor model."""

    uri: str
    city: str
    how: str  # how it was chosen

    def describe(self) -> str:
        return f"{self.city or 'unknown city'} model {self.uri} ({self.how})"


def latest_blessed_model(store, city: str) -> str:
    """URI of the newest blessed Model of a city's pipeline, from MLMD."""
    name = wiring.pipeline_name(city)
    evaluator = metadata.latest_execution_of(store, name, wiring.EVALUATOR)
    ctx = store.get_context_by_type_and_name("node", f"{name}.{wiring.EVALUATOR}")
    if ctx is None or evaluator is None:
        raise DonorError(f"no evaluated model of city {city!r} in the MLMD store")
    executions = sorted(store.get_executions_by_context(ctx.id), key=lambda e: -e.id)
    for execution in executions:
        for blessing in metadata.outputs_of(store, execution.id, "blessing"):
            if metadata.custom_properties(blessing).get("blessed") == 1:
                models = metadata.inputs_of(store, execution.id, "model")
                if models:
                    return models[0].uri
    raise DonorError(f"city {city!r} has no blessed model yet; train it first")


def previous_model(layout, city: str) -> Donor | None:
    """The latest blessed model of ``city`` itself (its own pipeline in the store), or
    None when it has none yet (a first run: the caller falls back to a cold start)."""
    location = layout.metadata_location
    if not metadata.is_mysql(location) and not os.path.isfile(location):
        return None
    try:
        uri = latest_blessed_model(metadata.open_store(location), city)
    except DonorError:
        return None
    return _donor(uri, f"previous blessed model of {city} in {metadata.redact(location)}")


def resolve_donor(warm_start: WarmStartConfig, layout, city: str = "") -> Donor | None:
    """Turns the warm-start config into a concrete donor model directory.

    None only for ``previous`` when ``city`` has no blessed model yet.
    """
    if warm_start.model == PREVIOUS_MODEL:
        return previous_model(layout, city)
    source = warm_start.model or (
        f"{LATEST_PREFIX}{warm_start.from_city}" if warm_start.from_city else ""
    )
    if not source:
        raise DonorError("warm start needs a donor: --warm-start-from URI or latest:<city>")
    if source.startswith(LATEST_PREFIX):
        city = source[len(LATEST_PREFIX) :]
        store = metadata.open_store(layout.metadata_location)
        uri = latest_blessed_model(store, city)
        how = f"latest blessed model of {city} in {metadata.redact(layout.metadata_location)}"
    else:
        uri = source if "://" in source else os.path.abspath(source)
        how = "given path"
        if not tf.io.gfile.isdir(uri):
            raise DonorError(f"donor model {source}: no such directory")
    return _donor(uri, how)


def _donor(uri: str, how: str) -> Donor:
    """The Donor at ``uri``; raises DonorError unless it holds a model's embedding spec."""
    try:
        spec = model_dir.read_spec(uri)
    except model_dir.ModelDirError as err:
        raise DonorError(f"donor model {uri}: {err}") from err
    if spec is None:
        raise DonorError(
            f"donor model {uri} has no {features.EMBEDDING_SPEC_FILE}; "
            "it is not a traffic-embedding model"
        )
    return Donor(uri=uri, city=str(spec.get("city", "")), how=how)


def check_donor(donor: Donor, config: CityConfig) -> None:
    """Raises WarmStartError if the donor is incompatible with ``config`` or unreadable.

    The same check the Trainer makes, done before the run so a bad donor costs nothing.
    """
    receiver = features.EmbeddingSpec(
        cross_buckets=config.cross_buckets,
        embedding_dim=config.embedding_dim,
        city=config.city,
        timezone=config.timezone,
    )
    warm_start.load_donor_embedding(donor.uri, receiver)
