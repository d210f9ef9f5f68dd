"""The per-city YAML config: built-ins load, typos and bad values fail with the key named."""

from __future__ import annotations

import dataclasses
import json

import pytest

from components.traffic_example_gen.splits import DEFAULT_SPLIT_CONFIG
from pipeline.config import (
    CityConfig,
    ConfigError,
    DataConfig,
    EvaluationConfig,
    MetricThreshold,
    TrainingConfig,
    builtin_cities,
    load_config,
)
from transforms import features


def test_builtin_cities_load_with_their_time_zones():
    assert {"london", "frankfurt"} <= set(builtin_cities())
    london, frankfurt = load_config("london"), load_config("frankfurt")
    assert (london.city, london.timezone) == ("london", "Europe/London")
    assert (frankfurt.city, frankfurt.timezone) == ("frankfurt", "Europe/Berlin")
    for city in (london, frankfurt):  # the default gate has no volume-dependent bound
        gate = city.gate_thresholds()
        assert gate["headway_nll_vs_constant"].upper_bound == 0.0
        assert gate["headway_nll"].max_increase > 0
        assert "mean_absolute_error" not in gate


def test_config_is_frozen():
    config = load_config("london")
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.city = "paris"  # type: ignore[misc]


def test_unknown_key_is_named_with_its_file(tmp_path):
    path = tmp_path / "paris.yaml"
    path.write_text("timezone: Europe/Paris\ntraining:\n  train_stpes: 10\n")
    with pytest.raises(ConfigError, match=r"paris\.yaml: unknown key 'training\.train_stpes'"):
        load_config("paris", path)


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("cross_buckets: 10\n", r"missing key 'timezone'"),
        ("timezone: Europe/Paris\ndata: [1]\n", r"data must be a mapping"),
        ("timezone: Europe/Paris\nbeam: {extra_args: --a}\n", r"beam\.extra_args must be a list"),
        (
            "timezone: Europe/Paris\nbeam: {extra_args: [--a, 3]}\n",
            r"beam\.extra_args\.1 must be a string, got 3 \(int\)",
        ),
        (
            "timezone: Europe/Paris\ntraining: {train_steps: true}\n",
            r"training\.train_steps must be an integer, got True \(bool\)",
        ),
        (
            "timezone: Europe/Paris\ndata: {span_begin: 2026-03-16}\n",
            r"data\.span_begin must be a string, got datetime\.date",
        ),
        (
            "timezone: Europe/Paris\nevaluation: {thresholds: {headway_nll: {upper_bound: x}}}\n",
            r"evaluation\.thresholds\.headway_nll\.upper_bound must be a number, got 'x'",
        ),
        ("timezone: Europe/Paris\ncross_buckets: 0\n", r"cross_buckets and embedding_dim must be"),
    ],
)
def test_invalid_yaml_gets_one_line_naming_file_and_key(tmp_path, yaml_text, message):
    path = tmp_path / "paris.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=rf"^{tmp_path}/paris\.yaml: {message}") as raised:
        load_config("paris", path)
    assert "\n" not in str(raised.value)


def test_yaml_numbers_load_as_their_field_types(tmp_path):
    path = tmp_path / "paris.yaml"
    base = "timezone: Europe/Paris\nevaluation: {thresholds: {headway_nll: {upper_bound: 5}}}\n"
    path.write_text(base + "generator: {scale: 2}\nbeam: {extra_args: [--a, --b]}\n")
    config = load_config("paris", path)
    assert isinstance(config.generator.scale, float) and config.generator.scale == 2.0
    assert config.beam.extra_args == ("--a", "--b")
    assert config.evaluation.thresholds["headway_nll"].upper_bound == 5.0


def test_user_config_overrides_defaults(tmp_path):
    path = tmp_path / "paris.yaml"
    path.write_text(
        "timezone: Europe/Paris\ncross_buckets: 512\n"
        "warm_start: {model: /models/london/1, mode: frozen}\n"
        "evaluation:\n  thresholds:\n    mean_absolute_error: {upper_bound: 30}\n"
    )
    config = load_config("paris", path)
    assert config.city == "paris" and config.cross_buckets == 512
    assert config.warm_start.enabled and config.warm_start.mode == "frozen"
    assert config.evaluation.thresholds["mean_absolute_error"].upper_bound == 30.0
    custom = config.trainer_custom_config()
    assert custom["cross_buckets"] == 512 and custom["warm_start_mode"] == "frozen"
    assert custom["train_steps"] == config.training.train_steps


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "not an IANA time zone"),
        ({"cross_buckets": 0}, "must be positive"),
    ],
)
def test_invalid_values_fail(changes, message):
    with pytest.raises(ConfigError, match=message):
        CityConfig(city="x", **{"timezone": "Europe/Paris", **changes})


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"validation_fraction": 0.9}, r"training: .*validation_fraction: must be in \(0, 0\.5\)"),
        ({"approach_basis": 0}, r"training: .*approach_basis: must be >= 1"),
    ],
)
def test_trainer_checks_run_when_the_config_loads(training, message):
    with pytest.raises(ConfigError, match=message):
        CityConfig(
            city="x",
            timezone="Europe/Paris",
            training=dataclasses.replace(TrainingConfig(), **training),
        )


def test_unknown_city_without_config_lists_builtins():
    with pytest.raises(ConfigError, match=r"no built-in config for city 'atlantis'.*london"):
        load_config("atlantis")


def test_duplicates_rule_defaults_to_exact_and_is_validated(tmp_path):
    assert load_config("london").data.duplicates == "exact"
    path = tmp_path / "paris.yaml"
    path.write_text(
        "timezone: Europe/Paris\ndata: {duplicates: keep}\n"
        "evaluation: {thresholds: {headway_nll: {upper_bound: 5}}}\n"
    )
    assert load_config("paris", path).data.duplicates == "keep"
    path.write_text(path.read_text().replace("keep", "first"))
    with pytest.raises(
        ConfigError, match=r"paris\.yaml: data\.duplicates: 'first' not in \('exact', 'keep'\)"
    ):
        load_config("paris", path)


def test_max_missing_hours_defaults_to_report_only_and_is_validated(tmp_path):
    assert load_config("london").data.max_missing_hours is None
    path = tmp_path / "paris.yaml"
    base = "timezone: Europe/Paris\nevaluation: {thresholds: {headway_nll: {upper_bound: 5}}}\n"
    path.write_text(base + "data: {max_missing_hours: 3}\n")
    assert load_config("paris", path).data.max_missing_hours == 3.0
    for value, message in (
        ("-1", r"data\.max_missing_hours must be in \[0, 24\] hours or null, got -1"),
        ("25.5", r"data\.max_missing_hours must be in \[0, 24\]"),
        ("'3h'", r"data\.max_missing_hours must be a number, got '3h'"),
    ):
        path.write_text(base + f"data: {{max_missing_hours: {value}}}\n")
        with pytest.raises(ConfigError, match=rf"paris\.yaml: {message}"):
            load_config("paris", path)


def test_a_config_without_split_gets_the_components_default_split():
    config = CityConfig(city="x", timezone="Europe/Paris")
    assert config.data.split.to_json_dict() == json.loads(DEFAULT_SPLIT_CONFIG)


def _counts_config(tmp_path, evaluation: str = "") -> CityConfig:
    path = tmp_path / "leeds.yaml"
    path.write_text(f"timezone: Europe/London\ndata: {{kind: counts}}\n{evaluation}")
    return load_config("leeds", path)


def test_counts_config_without_thresholds_gets_the_counts_gate(tmp_path):
    config = _counts_config(tmp_path)
    gate = config.gate_thresholds()
    assert gate["count_nll_vs_constant"].upper_bound == 0.0
    assert gate["count_nll"].max_increase == 0.02
    assert not any(name.startswith("headway") for name in gate)
    assert config.preprocessing_config()["data_kind"] == features.DATA_KIND_COUNTS
    assert config.trainer_custom_config()["data_kind"] == features.DATA_KIND_COUNTS
    # An explicit gate replaces the default.
    explicit = _counts_config(
        tmp_path, "evaluation: {thresholds: {count_mean_absolute_error: {upper_bound: 50}}}\n"
    )
    assert explicit.gate_thresholds() == {"count_mean_absolute_error": MetricThreshold(50.0)}


def test_events_config_defaults_and_names_its_kind_for_the_trainer():
    config = CityConfig(city="x", timezone="Europe/Paris")
    assert config.data.kind == features.DATA_KIND_EVENTS
    assert config.trainer_custom_config()["data_kind"] == features.DATA_KIND_EVENTS
    assert config.gate_thresholds()["headway_nll_vs_constant"].upper_bound == 0.0


@pytest.mark.parametrize(
    ("kind", "metric", "other"),
    [("counts", "headway_nll", "events"), ("events", "count_nll_vs_constant", "counts")],
)
def test_threshold_on_a_metric_of_the_other_kind_is_named(tmp_path, kind, metric, other):
    path = tmp_path / "leeds.yaml"
    path.write_text(
        f"timezone: Europe/London\ndata: {{kind: {kind}}}\n"
        f"evaluation: {{thresholds: {{{metric}: {{upper_bound: 0}}}}}}\n"
    )
    with pytest.raises(
        ConfigError, match=rf"leeds\.yaml: .*'{metric}' is a metric of data\.kind {other}"
    ):
        load_config("leeds", path)


def test_unknown_threshold_metric_is_named():
    with pytest.raises(ConfigError, match="unknown metric 'headway_mse'"):
        CityConfig(
            city="x",
            timezone="Europe/Paris",
            data=DataConfig(kind="counts"),
            evaluation=EvaluationConfig(thresholds={"headway_mse": MetricThreshold(1.0)}),
        )


def test_memory_budget_defaults_to_an_eighth_of_memory_and_is_validated(tmp_path):
    from transforms import memory_budget

    default = load_config("london").resources
    assert default.memory_budget_mb == 0
    physical = memory_budget.physical_memory_bytes()
    assert physical > 1 << 30  # a real machine's memory, read from the OS
    assert default.memory_budget_bytes() == physical // 8
    path = tmp_path / "london.yaml"
    base = "timezone: Europe/London\n"
    path.write_text(base + "resources: {memory_budget_mb: 256}\n")
    assert load_config("london", path).resources.memory_budget_bytes() == 256 << 20
    path.write_text(base + "resources: {memory_budget_mb: -1}\n")
    with pytest.raises(ConfigError, match="memory_budget_mb"):
        load_config("london", path)
    path.write_text(base + "resources: {memory_gb: 1}\n")
    with pytest.raises(ConfigError, match=r"resources\.memory_gb"):
        load_config("london", path)


def test_window_days_is_off_by_default_and_validated_at_load(tmp_path):
    data = load_config("london").data
    assert (data.window_days, data.max_missing_days) == (0, 0)
    path = tmp_path / "paris.yaml"
    base = "timezone: Europe/Paris\nevaluation: {thresholds: {headway_nll: {upper_bound: 5}}}\n"
    path.write_text(base + "data: {window_days: 28, max_missing_days: 2}\n")
    loaded = load_config("paris", path).data
    assert (loaded.window_days, loaded.max_missing_days) == (28, 2)
    for data, message in (
        ("{window_days: -1}", r"data\.window_days must be >= 0"),
        ("{window_days: 7, span_begin: '2026-03-01'}", "exclude each other"),
        ("{window_days: 7, max_missing_days: 7}", r"max_missing_days \(7\) must be below"),
        ("{window_days: 8, max_missing_days: 1}", r"must exceed data\.split\.eval_days \(7\)"),
        ("{window_days: '28'}", r"data\.window_days must be an integer"),
    ):
        path.write_text(base + f"data: {data}\n")
        with pytest.raises(ConfigError, match=rf"paris\.yaml: .*{message}"):
            load_config("paris", path)
