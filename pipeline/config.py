"""Typed, frozen per-city pipeline config, loaded from YAML.

``load_config("london")`` reads the built-in ``pipeline/configs/london.yaml``;
``load_config("london", path)`` reads a user file. Unknown keys are errors that
name the file and the key, so a typo never silently falls back to a default.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from components.traffic_example_gen import accounting, splits, window
from pipeline import gates
from transforms import features, memory_budget
from transforms.hparams import HParams

CONFIG_PACKAGE = "pipeline.configs"
WARM_START_MODES = features.WARM_START_MODES
_TRAINING_DEFAULTS = HParams()  # the Trainer's own defaults; the config only overrides them
SPLIT_KINDS = (splits.TIME, splits.HASH)
SCHEMA_MODES = ("curated", "inferred")


class ConfigError(ValueError):
    """A config file or value is invalid; the message names the file and key."""


@dataclass(frozen=True)
class SplitConfig:
    """How ExampleGen splits train/eval: by time (default) or by hash.

    The defaults are the component's own (``splits.DEFAULT_SPLIT_CONFIG``).
    """

    kind: str = splits.DEFAULT_SPLIT_KIND
    eval_days: int = splits.DEFAULT_EVAL_DAYS
    eval_fraction: float = 0.0  # used instead of eval_days when > 0

    def to_json_dict(self) -> dict[str, Any]:
        if self.kind == splits.HASH or self.eval_fraction > 0:
            return {"kind": self.kind, "eval_fraction": self.eval_fraction}
        return {"kind": self.kind, "eval_days": self.eval_days}


@dataclass(frozen=True)
class DataConfig:
    """Where the raw observations are and which daily spans to use."""

    input_base: str = ""  # empty: generate the city's default data first
    kind: str = _TRAINING_DEFAULTS.data_kind  # events (one row per vehicle) | counts (hourly)
    span_begin: str = ""  # YYYY-MM-DD inclusive, empty = open
    span_end: str = ""
    # > 0: a rolling window of this many complete local days, resolved when ExampleGen
    # starts (components/traffic_example_gen/window.py) instead of the span; 0: the span.
    window_days: int = 0
    # Days of the window without a file that a run accepts (and records); more stop it.
    max_missing_days: int = window.DEFAULT_MAX_MISSING_DAYS
    split: SplitConfig = field(default_factory=SplitConfig)
    max_reject_fraction: float = accounting.DEFAULT_MAX_REJECT_FRACTION
    schema_mode: str = "curated"  # curated (ImportSchemaGen) | inferred (SchemaGen)
    # exact: reject exact copies (every column identical) | keep: every row is a vehicle
    duplicates: str = accounting.DEFAULT_DUPLICATES
    # A likely truncated day (its vehicles stop this many hours earlier than its
    # neighbouring days'; components/traffic_example_gen/coverage.py) fails the run;
    # None: it is only reported in the run summary.
    max_missing_hours: float | None = None


@dataclass(frozen=True)
class GeneratorConfig:
    """The built-in synthetic data used when no data location is given."""

    days: int = 28
    start_date: str = "2026-03-16"
    seed: int | None = None  # None: the city's own default seed
    intersections: int | None = None
    scale: float = 1.0


@dataclass(frozen=True)
class TrainingConfig:
    """Trainer hyperparameters, passed to ``run_fn`` through ``custom_config``.

    Defaults are ``transforms.model.HParams``'s, so they live in one place.
    """

    train_steps: int = _TRAINING_DEFAULTS.train_steps
    eval_steps: int = _TRAINING_DEFAULTS.eval_steps
    batch_size: int = _TRAINING_DEFAULTS.batch_size
    learning_rate: float = _TRAINING_DEFAULTS.learning_rate
    early_stopping_patience: int = _TRAINING_DEFAULTS.early_stopping_patience
    location_buckets: int = _TRAINING_DEFAULTS.location_buckets
    location_embedding_dim: int = _TRAINING_DEFAULTS.location_embedding_dim
    validation_fraction: float = _TRAINING_DEFAULTS.validation_fraction
    approach_basis: int = _TRAINING_DEFAULTS.approach_basis
    seed: int = _TRAINING_DEFAULTS.seed


@dataclass(frozen=True)
class MetricThreshold:
    """Gate on one TFMA metric: an absolute bound and a bound vs the baseline."""

    upper_bound: float | None = None  # absolute: metric must be <= this
    max_increase: float | None = None  # change: metric - baseline must be <= this


@dataclass(frozen=True)
class EvaluationConfig:
    """TFMA gating thresholds, keyed by metric name (lower is better for all).

    ``None`` (left out of the YAML): the default gate of the config's ``data.kind``
    (``pipeline.gates.DEFAULT_GATES``); see ``gate_thresholds``.
    """

    thresholds: dict[str, MetricThreshold] | None = None


def gate_thresholds(evaluation: EvaluationConfig, data_kind: str) -> dict[str, MetricThreshold]:
    """The thresholds the Evaluator gates on: the configured ones or the kind's default."""
    if evaluation.thresholds is not None:
        return evaluation.thresholds
    return {
        name: MetricThreshold(**bounds) for name, bounds in gates.DEFAULT_GATES[data_kind].items()
    }


# ``warm_start.model: previous``: the city's own latest blessed model (a cold start
# while there is none yet).
PREVIOUS_MODEL = "previous"


@dataclass(frozen=True)
class WarmStartConfig:
    """Start the day x hour embedding from another city's model, or the city's own."""

    # pushed model dir, Trainer model artifact dir, latest:<city>, or PREVIOUS_MODEL
    model: str = ""
    from_city: str = ""  # or: the latest blessed model of this city
    mode: str = ""  # frozen | fine_tune; empty = cold start

    @property
    def enabled(self) -> bool:
        return bool(self.mode)


@dataclass(frozen=True)
class BeamConfig:
    """Beam runner profile; see deploy/runners/beam_profiles.py for what each yields."""

    profile: str = "direct"
    direct_num_workers: int = 0  # 0 = all cores
    project: str = ""
    region: str = ""
    temp_location: str = ""
    job_endpoint: str = ""  # portable profiles; portable defaults to Beam's embedded one
    environment_type: str = ""  # portable profiles: LOOPBACK, PROCESS, DOCKER, EXTERNAL
    environment_config: str = ""  # e.g. the worker image (DOCKER; default: the image)
    max_num_workers: int = 10
    extra_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourcesConfig:
    """Machine resources the stages plan for (transforms/memory_budget.py)."""

    # A stage holds data in memory only under this budget, else it streams;
    # 0: an eighth of the machine's physical memory.
    memory_budget_mb: int = memory_budget.DEFAULT_MEMORY_BUDGET_MB

    def memory_budget_bytes(self) -> int:
        return memory_budget.memory_budget_bytes(self.memory_budget_mb)


@dataclass(frozen=True)
class CityConfig:
    """Everything one city's pipeline needs; frozen so runs are reproducible."""

    city: str
    timezone: str
    cross_buckets: int = features.DEFAULT_CROSS_BUCKETS
    embedding_dim: int = features.DEFAULT_EMBEDDING_DIM
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)
    beam: BeamConfig = field(default_factory=BeamConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    image: str = "traffic-embeddings:latest"
    # ML Metadata for local runs: mysql://user[:password]@host[:port]/database;
    # empty: the embedded SQLite file OUTPUT/metadata.sqlite.
    metadata: str = ""

    def __post_init__(self) -> None:
        _validate(self)

    def replace(self, **changes: Any) -> CityConfig:
        """A copy with top-level fields replaced (nested: pass a whole section)."""
        return dataclasses.replace(self, **changes)

    def preprocessing_config(self) -> dict[str, Any]:
        """Transform's ``custom_config``: only what ``preprocessing_fn`` reads, so that
        changing a training setting leaves Transform cached."""
        return {
            "cross_buckets": self.cross_buckets,
            "location_buckets": self.training.location_buckets,
            "data_kind": self.data.kind,
        }

    def trainer_custom_config(self) -> dict[str, Any]:
        """The Trainer's ``custom_config``: every hyperparameter, the warm-start mode,
        the data kind (which loss the model trains with) and the memory budget (which
        never changes the model, only whether its rows stream from disk)."""
        return {
            "city": self.city,
            "timezone": self.timezone,
            "cross_buckets": self.cross_buckets,
            "embedding_dim": self.embedding_dim,
            "warm_start_mode": self.warm_start.mode,
            "data_kind": self.data.kind,
            "memory_budget_mb": self.resources.memory_budget_mb,
            **dataclasses.asdict(self.training),
        }

    def gate_thresholds(self) -> dict[str, MetricThreshold]:
        """The Evaluator's gate: ``evaluation.thresholds`` or the data kind's default."""
        return gate_thresholds(self.evaluation, self.data.kind)


def _validate(config: CityConfig) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(config.timezone)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise ConfigError(f"timezone: {config.timezone!r} is not an IANA time zone") from err
    if config.cross_buckets < 1 or config.embedding_dim < 1:
        raise ConfigError("cross_buckets and embedding_dim must be positive")
    if config.warm_start.mode and config.warm_start.mode not in WARM_START_MODES:
        raise ConfigError(f"warm_start.mode: {config.warm_start.mode!r} not in {WARM_START_MODES}")
    if config.warm_start.model == PREVIOUS_MODEL and config.warm_start.from_city:
        raise ConfigError("warm_start: model 'previous' and from_city exclude each other")
    if config.data.kind not in features.DATA_KINDS:
        raise ConfigError(f"data.kind: {config.data.kind!r} not in {features.DATA_KINDS}")
    if config.evaluation.thresholds is not None:
        problem = gates.unknown_metrics(set(config.evaluation.thresholds), config.data.kind)
        if problem:
            raise ConfigError(problem)
    if config.data.split.kind not in SPLIT_KINDS:
        raise ConfigError(f"data.split.kind: {config.data.split.kind!r} not in {SPLIT_KINDS}")
    if config.metadata and not config.metadata.startswith("mysql://"):
        raise ConfigError(f"metadata: {config.metadata!r} is not a mysql://user@host:port/db URI")
    if config.data.schema_mode not in SCHEMA_MODES:
        raise ConfigError(f"data.schema_mode: {config.data.schema_mode!r} not in {SCHEMA_MODES}")
    if config.data.duplicates not in accounting.DUPLICATE_RULES:
        raise ConfigError(
            f"data.duplicates: {config.data.duplicates!r} not in {accounting.DUPLICATE_RULES}"
        )
    if not 0.0 <= config.data.max_reject_fraction <= 1.0:
        raise ConfigError("data.max_reject_fraction must be in [0, 1]")
    missing = config.data.max_missing_hours
    if missing is not None and not 0.0 <= missing <= 24.0:
        raise ConfigError(f"data.max_missing_hours must be in [0, 24] hours or null, got {missing}")
    _validate_window(config.data)
    if config.data.split.eval_days < 1 or not 0.0 <= config.data.split.eval_fraction < 1.0:
        raise ConfigError("data.split: eval_days must be >= 1 and eval_fraction in [0, 1)")
    for name in ("train_steps", "eval_steps", "batch_size", "location_buckets"):
        if getattr(config.training, name) < 1:
            raise ConfigError(f"training.{name} must be a positive integer")
    if config.resources.memory_budget_mb < 0:
        raise ConfigError("resources.memory_budget_mb must be >= 0 (0: an eighth of memory)")
    if config.training.learning_rate <= 0:
        raise ConfigError("training.learning_rate must be positive")
    try:  # the Trainer's own checks (validation_fraction, approach_basis, ...), before running
        HParams.from_custom_config(config.trainer_custom_config())
    except ValueError as err:
        raise ConfigError(f"training: {err}") from err


def _validate_window(data: DataConfig) -> None:
    if data.window_days < 0:
        raise ConfigError(
            f"data.window_days must be >= 0 (0: use the span), got {data.window_days}"
        )
    if data.max_missing_days < 0:
        raise ConfigError(f"data.max_missing_days must be >= 0, got {data.max_missing_days}")
    if not data.window_days:
        return
    if data.span_begin or data.span_end:
        raise ConfigError(
            "data.window_days and data.span_begin/span_end exclude each other; "
            "a window is resolved at run time, a span is fixed"
        )
    if data.max_missing_days >= data.window_days:
        raise ConfigError(
            f"data.max_missing_days ({data.max_missing_days}) must be below data.window_days "
            f"({data.window_days})"
        )
    eval_days = data.split.eval_days
    if (
        data.split.kind == splits.TIME
        and not data.split.eval_fraction
        and (data.window_days - data.max_missing_days <= eval_days)
    ):
        raise ConfigError(
            f"data.window_days ({data.window_days}) minus data.max_missing_days "
            f"({data.max_missing_days}) must exceed data.split.eval_days ({eval_days}): "
            "the time split needs at least one train day"
        )


def check_gate(config: CityConfig, source: str) -> None:
    """Raises unless the evaluation gate can ever bless a model (a bound on some metric)."""
    bounded = [
        name
        for name, t in config.gate_thresholds().items()
        if t.upper_bound is not None or t.max_increase is not None
    ]
    if not bounded:
        raise ConfigError(
            f"{source}: evaluation.thresholds sets no bound, so no model could ever be "
            "blessed; give at least one metric an upper_bound, e.g. "
            "'evaluation: {thresholds: {headway_nll_vs_constant: {upper_bound: 0}}}'"
        )


def _build(cls: type, raw: Any, where: str, source: str) -> Any:
    """Builds dataclass ``cls`` from a YAML mapping, rejecting unknown keys."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: {where or 'top level'} must be a mapping")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    kwargs = {}
    for key, value in raw.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in known:
            raise ConfigError(f"{source}: unknown key {path!r}")
        kwargs[key] = _coerce(hints[key], value, path, source)
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, path: str, source: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, path, source)
    origin = typing.get_origin(hint)
    if origin is dict:
        value_type = typing.get_args(hint)[1]
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {path} must be a mapping")
        return {k: _coerce(value_type, v, f"{path}.{k}", source) for k, v in value.items()}
    if origin is tuple:
        return tuple(value or ())
    if origin in (typing.Union, types.UnionType) and value is not None:
        non_none = [a for a in typing.get_args(hint) if a is not type(None)]
        return _coerce(non_none[0], value, path, source)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in _SCALARS and not _is_a(value, hint):
        raise ConfigError(
            f"{source}: {path} must be {_SCALARS[hint]}, got {value!r} ({type(value).__name__})"
        )
    return value


_SCALARS = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


def _is_a(value: Any, hint: type) -> bool:
    """Strict YAML scalar check: a bool is not an int, an int is not a string."""
    if hint is bool:
        return isinstance(value, bool)
    return isinstance(value, hint) and not isinstance(value, bool)


def load_config(city: str, path: str | Path | None = None) -> CityConfig:
    """Loads a city's config from ``path``, or the built-in one for ``city``."""
    if path is None:
        resource = resources.files(CONFIG_PACKAGE).joinpath(f"{city}.yaml")
        if not resource.is_file():
            raise ConfigError(
                f"no built-in config for city {city!r}; pass --config FILE "
                f"(built-in: {', '.join(builtin_cities())})"
            )
        text, source = resource.read_text(), f"built-in config {city}.yaml"
    else:
        try:
            text = Path(path).read_text()
        except OSError as err:
            raise ConfigError(f"cannot read config {path}: {err.strerror}") from err
        source = str(path)
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{source}: invalid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: top level must be a mapping")
    raw.setdefault("city", city)
    try:
        config = _build(CityConfig, raw, "", source)
    except TypeError as err:
        raise ConfigError(f"{source}: {err}") from err
    except ConfigError as err:
        if str(err).startswith(source):
            raise
        raise ConfigError(f"{source}: {err}") from err
    if config.city != city:
        raise ConfigError(
            f"{source}: city {config.city!r} does not match --city {city!r}; "
            "fix one of them (a config is for one city)"
        )
    check_gate(config, source)
    return config


def builtin_cities() -> list[str]:
    """Names of the cities with a config shipped in the package."""
    root = resources.files(CONFIG_PACKAGE)
    return sorted(p.name[: -len(".yaml")] for p in root.iterdir() if p.name.endswith(".yaml"))
