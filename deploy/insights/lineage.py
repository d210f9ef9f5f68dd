"""Where a pushed model came from and how it was evaluated, read from ML Metadata.

Only when the model sits in a local output dir with its ``metadata.sqlite``; a model
copied elsewhere still has its own files (spec, warm_start.json) but no eval record.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from deploy.insights.model_files import ModelFiles
from deploy.mlmd import metadata
from deploy.mlmd.spans import training_span
from deploy.runners.local.run_summary import metrics_by_slice
from deploy.runners.local.runner import LocalLayout

PUSHED_MODEL_TYPE = "PushedModel"


@dataclass
class Lineage:
    """City, data span, donor and mode, version, and the Evaluator's metrics by slice."""

    city: str
    version: str
    model_dir: str
    timezone: str
    data_span: str = "unknown (no ML Metadata store beside the model)"
    donor: str = "none (cold start)"
    mode: str = ""
    metrics_by_slice: list[tuple[str, dict[str, float]]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "city": self.city,
            "version": self.version,
            "model_dir": self.model_dir,
            "timezone": self.timezone,
            "data_span": self.data_span,
            "donor": self.donor,
            "warm_start_mode": self.mode,
        }


def _output_dir_of(model_dir: str) -> Path | None:
    """``<output>`` when ``model_dir`` is ``<output>/serving/<city>/<version>``."""
    path = Path(model_dir).resolve()
    if len(path.parents) >= 3 and path.parents[1].name == "serving":
        return path.parents[2]
    return None


def lineage_of(files: ModelFiles) -> Lineage:
    """Everything known about ``files``' model: its own files, then MLMD when present."""
    record = Lineage(
        city=files.city, version=files.version, model_dir=files.model_dir, timezone=files.timezone
    )
    if files.warm_start:
        record.donor = f"{files.warm_start.get('donor_city') or '?'}: {files.warm_start['donor']}"
        record.mode = str(files.warm_start.get("mode", ""))
    output = _output_dir_of(files.model_dir)
    if files.output_dir:
        output = Path(files.output_dir).resolve()
    store_path = LocalLayout(output).metadata_path if output else None
    if store_path is None or not store_path.is_file():
        return record
    store = metadata.open_store(store_path)
    model_dir = os.path.normpath(os.path.abspath(files.model_dir))
    for pushed in store.get_artifacts_by_type(PUSHED_MODEL_TYPE):
        destination = metadata.custom_properties(pushed).get("pushed_destination", "")
        if os.path.normpath(str(destination)) != model_dir:
            continue
        pusher = metadata.producer_of(store, pushed.id)
        model = metadata.inputs_of(store, pusher.id, "model") if pusher else []
        if not model:
            break
        trainer = metadata.producer_of(store, model[0].id)
        if trainer is not None:
            record.data_span = training_span(store, trainer.id)
        for event in store.get_events_by_artifact_ids([model[0].id]):
            as_candidate = any(s.HasField("key") and s.key == "model" for s in event.path.steps)
            if not as_candidate:  # e.g. the baseline of a later model's evaluation
                continue
            for evaluation in metadata.outputs_of(store, event.execution_id, "evaluation"):
                record.metrics_by_slice = metrics_by_slice(evaluation.uri)
        break
    return record
