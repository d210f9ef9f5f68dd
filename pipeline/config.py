"""Typed, frozen per-city pipeline config, loaded from YAML.

``load_config("london")`` reads the built-in ``pipeline/configs/london.yaml``;
``load_config("london", path)`` reads a user file. pydantic validates the YAML
against the frozen dataclasses below: unknown keys are errors that name the file and
the key, so a typo never silently falls back to a default, and a value of the wrong
type is named rather than coerced. Checks across keys are ``_validate``'s.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pydantic
import yaml
from pydantic import StrictFloat, StrictInt, StrictStr

from components.drift_gate import checks as drift_checks
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


# Every section below is validated by pydantic from the YAML mapping: unknown keys are
# errors, and the Strict* field types reject what YAML parses as another type (a quoted
# number, a bool for an int, an unquoted date for a string) instead of coercing it.
YAML_SECTION = pydantic.ConfigDict(extra="forbid")


@dataclass(frozen=True)
class SplitConfig:
    """How ExampleGen splits train/eval: by time (default) or by hash.

    The defaults are the component's own (``splits.DEFAULT_SPLIT_CONFIG``).
    """

    __pydantic_config__ = YAML_SECTION

    kind: StrictStr = splits.DEFAULT_SPLIT_KIND
    eval_days: StrictInt = splits.DEFAULT_EVAL_DAYS
    eval_fraction: StrictFloat = 0.0  # used instead of eval_days when > 0

    def to_json_dict(self) -> dict[str, Any]:
        if self.kind == splits.HASH or self.eval_fraction > 0:
            return {"kind": self.kind, "eval_fraction": self.eval_fraction}
        return {"kind": self.kind, "eval_days": self.eval_days}


@dataclass(frozen=True)
class DataConfig:
    """Where the raw observations are and which daily spans to use."""

    __pydantic_config__ = YAML_SECTION

    input_base: StrictStr = ""  # empty: generate the city's default data first
    kind: StrictStr = _TRAINING_DEFAULTS.data_kind  # events (one row per vehicle) | counts (hourly)
    span_begin: StrictStr = ""  # YYYY-MM-DD inclusive, empty = open
    span_end: StrictStr = ""
    # > 0: a rolling window of this many complete local days, resolved when ExampleGen
    # starts (components/traffic_example_gen/window.py) instead of the span; 0: the span.
    window_days: StrictInt = 0
    # Days of the window without a file that a run accepts (and records); more stop it.
    max_missing_days: StrictInt = window.DEFAULT_MAX_MISSING_DAYS
    # The day cache keeps the entries of days up to this many days before the window's
    # first day; older ones are deleted at the end of a successful run.
    cache_keep_days: StrictInt = window.DEFAULT_CACHE_KEEP_DAYS
    split: SplitConfig = field(default_factory=SplitConfig)
    max_reject_fraction: StrictFloat = accounting.DEFAULT_MAX_REJECT_FRACTION
    schema_mode: StrictStr = "curated"  # curated (ImportSchemaGen) | inferred (SchemaGen)
    # exact: reject exact copies (every column identical) | keep: every row is a vehicle
    duplicates: StrictStr = accounting.DEFAULT_DUPLICATES
    # A likely truncated day (its vehicles stop this many hours earlier than its
    # neighbouring days'; components/traffic_example_gen/coverage.py) fails the run;
    # None: it is only reported in the run summary.
    max_missing_hours: StrictFloat | None = None


@dataclass(frozen=True)
class GeneratorConfig:
    """The built-in synthetic data used when no data location is given."""

    __pydantic_config__ = YAML_SECTION

    days: StrictInt = 28
    start_date: StrictStr = "2026-03-16"
    seed: StrictInt | None = None  # None: the city's own default seed
    intersections: StrictInt | None = None
    scale: StrictFloat = 1.0


@dataclass(frozen=True)
class TrainingConfig:
    """Trainer hyperparameters, passed to ``run_fn`` through ``custom_config``.

    Defaults are ``transforms.model.HParams``'s, so they live in one place.
    """

    __pydantic_config__ = YAML_SECTION

    train_steps: StrictInt = _TRAINING_DEFAULTS.train_steps
    eval_steps: StrictInt = _TRAINING_DEFAULTS.eval_steps
    batch_size: StrictInt = _TRAINING_DEFAULTS.batch_size
    learning_rate: StrictFloat = _TRAINING_DEFAULTS.learning_rate
    early_stopping_patience: StrictInt = _TRAINING_DEFAULTS.early_stopping_patience
    location_buckets: StrictInt = _TRAINING_DEFAULTS.location_buckets
    location_embedding_dim: StrictInt = _TRAINING_DEFAULTS.location_embedding_dim
    validation_fraction: StrictFloat = _TRAINING_DEFAULTS.validation_fraction
    validation_split: StrictStr = _TRAINING_DEFAULTS.validation_split
    approach_basis: StrictInt = _TRAINING_DEFAULTS.approach_basis
    embedding_profile_weight: StrictFloat = _TRAINING_DEFAULTS.embedding_profile_weight
    seed: StrictInt = _TRAINING_DEFAULTS.seed


@dataclass(frozen=True)
class MetricThreshold:
    """Gate on one TFMA metric: an absolute bound and a bound vs the baseline."""

    __pydantic_config__ = YAML_SECTION

    upper_bound: StrictFloat | None = None  # absolute: metric must be <= this
    max_increase: StrictFloat | None = None  # change: metric - baseline must be <= this


@dataclass(frozen=True)
class EvaluationConfig:
    """TFMA gating thresholds, keyed by metric name (lower is better for all).

    ``None`` (left out of the YAML): the default gate of the config's ``data.kind``
    (``pipeline.gates.DEFAULT_GATES``); see ``gate_thresholds``.
    """

    __pydantic_config__ = YAML_SECTION

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

    __pydantic_config__ = YAML_SECTION

    # pushed model dir, Trainer model artifact dir, latest:<city>, or PREVIOUS_MODEL
    model: StrictStr = ""
    from_city: StrictStr = ""  # or: the latest blessed model of this city
    mode: StrictStr = ""  # frozen | fine_tune; empty = cold start

    @property
    def enabled(self) -> bool:
        return bool(self.mode)


@dataclass(frozen=True)
class DriftConfig:
    """The drift gate (components/drift_gate): this window's statistics vs the last
    blessed run's of the city, and its newest ``recent_days`` days vs that run's days
    before them. ``off`` | ``warn`` (recorded, shown) | ``block`` (also withholds the
    blessing: nothing pushed, exit 3)."""

    __pydantic_config__ = YAML_SECTION

    mode: StrictStr = drift_checks.DEFAULT_MODE
    # {feature: threshold}; a feature left out keeps its default (drift_checks.CHECKS).
    thresholds: dict[StrictStr, StrictFloat] = field(default_factory=dict)
    # The recent-days check (components/drift_gate/recent.py); 0: whole windows only.
    recent_days: StrictInt = drift_checks.DEFAULT_RECENT_DAYS

    def all_thresholds(self) -> dict[str, float]:
        """Every check's threshold: the defaults with the configured ones over them."""
        return {**drift_checks.DEFAULT_THRESHOLDS, **self.thresholds}


@dataclass(frozen=True)
class BeamConfig:
    """Beam runner profile; see deploy/runners/beam_profiles.py for what each yields."""

    __pydantic_config__ = YAML_SECTION

    profile: StrictStr = "direct"
    direct_num_workers: StrictInt = 0  # 0 = all cores
    project: StrictStr = ""
    region: StrictStr = ""
    temp_location: StrictStr = ""
    job_endpoint: StrictStr = ""  # portable profiles; portable defaults to Beam's embedded one
    environment_type: StrictStr = ""  # portable profiles: LOOPBACK, PROCESS, DOCKER, EXTERNAL
    environment_config: StrictStr = ""  # e.g. the worker image (DOCKER; default: the image)
    max_num_workers: StrictInt = 10
    extra_args: tuple[StrictStr, ...] = ()


@dataclass(frozen=True)
class ResourcesConfig:
    """Machine resources the stages plan for (transforms/memory_budget.py)."""

    __pydantic_config__ = YAML_SECTION

    # A stage holds data in memory only under this budget, else it streams;
    # 0: an eighth of the machine's physical memory.
    memory_budget_mb: StrictInt = memory_budget.DEFAULT_MEMORY_BUDGET_MB

    def memory_budget_bytes(self) -> int:
        return memory_budget.memory_budget_bytes(self.memory_budget_mb)


@dataclass(frozen=True)
class CityConfig:
    """Everything one city's pipeline needs; frozen so runs are reproducible."""

    __pydantic_config__ = YAML_SECTION

    city: StrictStr
    timezone: StrictStr
    cross_buckets: StrictInt = features.DEFAULT_CROSS_BUCKETS
    embedding_dim: StrictInt = features.DEFAULT_EMBEDDING_DIM
    data: DataConfig = field(default_factory=DataConfig)
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    training: TrainingConfig = field(default_factory=TrainingConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    warm_start: WarmStartConfig = field(default_factory=WarmStartConfig)
    drift: DriftConfig = field(default_factory=DriftConfig)
    beam: BeamConfig = field(default_factory=BeamConfig)
    resources: ResourcesConfig = field(default_factory=ResourcesConfig)
    image: StrictStr = "traffic-embeddings:latest"
    # ML Metadata for local runs: mysql://user[:password]@host[:port]/database;
    # empty: the embedded SQLite file OUTPUT/metadata.sqlite.
    metadata: StrictStr = ""

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
    if config.drift.mode not in drift_checks.MODES:
        raise ConfigError(f"drift.mode: {config.drift.mode!r} not in {drift_checks.MODES}")
    problem = drift_checks.unknown_features(set(config.drift.thresholds))
    if problem:
        raise ConfigError(f"drift.thresholds: {problem}")
    negative = sorted(k for k, v in config.drift.thresholds.items() if not v >= 0)
    if negative:
        raise ConfigError(f"drift.thresholds: {', '.join(negative)} must be >= 0")
    _validate_recent_days(config)
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


def _validate_recent_days(config: CityConfig) -> None:
    recent, window_days = config.drift.recent_days, config.data.window_days
    if recent < 0:
        raise ConfigError(f"drift.recent_days must be >= 0 (0: whole windows only), got {recent}")
    if config.drift.mode != "off" and window_days and window_days < 2 * recent:
        raise ConfigError(
            f"drift.recent_days ({recent}) needs data.window_days >= {2 * recent} (got "
            f"{window_days}): the newest {recent} days are compared with at least as many "
            "earlier days of the last blessed run; lower drift.recent_days (0: whole windows only)"
        )


def _validate_window(data: DataConfig) -> None:
    if data.window_days < 0:
        raise ConfigError(
            f"data.window_days must be >= 0 (0: use the span), got {data.window_days}"
        )
    if data.max_missing_days < 0:
        raise ConfigError(f"data.max_missing_days must be >= 0, got {data.max_missing_days}")
    if data.cache_keep_days < 0:
        raise ConfigError(f"data.cache_keep_days must be >= 0, got {data.cache_keep_days}")
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


_EXPECTED = {
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "tuple_type": "a list",
}


def _parse(raw: dict[str, Any], source: str) -> CityConfig:
    """``CityConfig`` from a YAML mapping (pydantic), its first error as one ConfigError line."""
    try:
        return pydantic.TypeAdapter(CityConfig).validate_python(raw)
    except pydantic.ValidationError as err:
        raise _config_error(err.errors()[0], source) from err


def _config_error(error: Any, source: str) -> ConfigError:
    """One pydantic error in the words users see: the file, the dotted key, what was wrong."""
    kind = error["type"]
    if kind == "value_error":  # a ConfigError that CityConfig's own checks raised
        return ConfigError(f"{source}: {error['ctx']['error']}")
    path = ".".join(str(part) for part in error["loc"])
    if kind == "unexpected_keyword_argument":
        return ConfigError(f"{source}: unknown key {path!r}")
    if kind in ("missing", "missing_argument"):
        return ConfigError(f"{source}: missing key {path!r}")
    if kind in ("dataclass_type", "dict_type"):
        return ConfigError(f"{source}: {path or 'top level'} must be a mapping")
    value = error["input"]
    if kind in _EXPECTED:
        return ConfigError(
            f"{source}: {path} must be {_EXPECTED[kind]}, got {value!r} ({type(value).__name__})"
        )
    return ConfigError(f"{source}: {path}: {error['msg']}, got {value!r}")


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
    drift = raw.get("drift")
    if isinstance(drift, dict) and drift.get("mode") is False:  # YAML 1.1 reads off as false
        drift["mode"] = "off"
    config = _parse(raw, source)
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
