"""Trainer hyperparameters: the one place their defaults live (no TensorFlow import).

``pipeline.config.TrainingConfig`` takes its defaults from here; ``run_fn`` builds an
``HParams`` from the Trainer's ``custom_config``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from transforms import features, memory_budget, row_order


@dataclass(frozen=True)
class HParams:
    """Trainer hyperparameters; built from ``custom_config`` by ``from_custom_config``."""

    city: str = ""
    timezone: str = ""
    cross_buckets: int = features.DEFAULT_CROSS_BUCKETS
    embedding_dim: int = features.DEFAULT_EMBEDDING_DIM
    location_buckets: int = features.DEFAULT_LOCATION_BUCKETS
    location_embedding_dim: int = 4
    batch_size: int = 1024
    learning_rate: float = 0.01
    train_steps: int = 3000
    eval_steps: int = 200
    early_stopping_patience: int = 3
    # Rows of the train split held out (a seeded hash of each row's content) to choose
    # the epoch: the eval split is never read by the Trainer.
    validation_fraction: float = 0.1
    # What is held out: rows by a seeded hash of their content, or whole local days
    # (ceil(validation_fraction * 7) days of each week, weekdays in a seeded rotation).
    validation_split: str = row_order.VALIDATION_BY_ROW
    approach_basis: int = 8  # day-hour features each approach weighs its own way
    # Weight of the term tying the day x hour vectors' distances to the city's day-hour
    # profile (transforms.profile_geometry); 0: the main path alone shapes the embedding.
    embedding_profile_weight: float = 0.03
    seed: int = 7
    warm_start_mode: str = ""
    data_kind: str = features.DATA_KIND_EVENTS  # events (exponential NLL) | counts (Poisson)
    # resources.memory_budget_mb: the training rows stay in memory under it, else they
    # stream from local disk (same model). 0: the default of the machine that trains.
    memory_budget_mb: float = float(memory_budget.DEFAULT_MEMORY_BUDGET_MB)
    # The Beam runner's arguments, set on a cluster's runner only: a train split over the
    # budget is then parsed by a Beam job (transforms/beam_rows.py; same model).
    beam_pipeline_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.warm_start_mode and self.warm_start_mode not in features.WARM_START_MODES:
            raise ValueError(
                f"custom_config warm_start_mode: {self.warm_start_mode!r} "
                f"not in {features.WARM_START_MODES}"
            )
        if self.data_kind not in features.DATA_KINDS:
            raise ValueError(
                f"custom_config data_kind: {self.data_kind!r} not in {features.DATA_KINDS}"
            )
        if not 0.0 < self.validation_fraction < 0.5:
            raise ValueError(
                "custom_config validation_fraction: must be in (0, 0.5), got "
                f"{self.validation_fraction}"
            )
        if self.validation_split not in row_order.VALIDATION_SPLITS:
            raise ValueError(
                f"custom_config validation_split: {self.validation_split!r} not in "
                f"{row_order.VALIDATION_SPLITS}"
            )
        if not self.embedding_profile_weight >= 0:
            raise ValueError(
                "custom_config embedding_profile_weight: must be >= 0, got "
                f"{self.embedding_profile_weight}"
            )
        if self.memory_budget_mb < 0:
            raise ValueError(
                f"custom_config memory_budget_mb: must be >= 0 (0: default), "
                f"got {self.memory_budget_mb}"
            )
        for name in (
            "cross_buckets",
            "embedding_dim",
            "location_buckets",
            "batch_size",
            "approach_basis",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"custom_config {name}: must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_custom_config(
        cls,
        custom_config: dict[str, Any] | None,
        train_steps: int | None = None,
        eval_steps: int | None = None,
    ) -> HParams:
        """Known keys of ``custom_config`` override defaults; ``train_steps`` and
        ``eval_steps`` (the Trainer's train_args/eval_args) win when given.

        Keys that are not hyperparameters (e.g. TFMA thresholds) are ignored.
        """
        config = custom_config or {}
        kwargs = {}
        for field in dataclasses.fields(cls):
            if config.get(field.name) is not None:
                kwargs[field.name] = type(getattr(cls, field.name))(config[field.name])
        if train_steps:
            kwargs["train_steps"] = int(train_steps)
        if eval_steps:
            kwargs["eval_steps"] = int(eval_steps)
        return cls(**kwargs)

    def embedding_spec(self) -> features.EmbeddingSpec:
        """The spec written next to the exported model."""
        return features.EmbeddingSpec(
            cross_buckets=self.cross_buckets,
            embedding_dim=self.embedding_dim,
            city=self.city,
            timezone=self.timezone,
            data_kind=self.data_kind,
        )
