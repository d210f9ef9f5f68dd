"""``create_pipeline``: the one pipeline definition every runner uses. Wiring only.

ExampleGen -> FastStatisticsGen -> (ImportSchemaGen | SchemaGen) -> StrictExampleValidator
-> Transform (in place) -> Trainer (optionally warm-started from an imported donor Model)
-> FastEvaluator (vs the latest blessed model) -> AtomicPusher. With ``drift.mode`` warn
or block, a DriftGate compares the window's statistics with the last blessed run's of
the city (its own resolver) and feeds the Evaluator, which records them on its blessing.

FastStatisticsGen and FastEvaluator are the stock components (same parameters and
artifacts) with faster executors; swapping the stock ones back is one line each.

Runners (deploy/) own every path and decide which inputs are runtime parameters.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# TFX's own modules, the ones ``tfx.v1`` re-exports: importing ``tfx.v1`` also imports its
# Google Cloud extensions (the AI Platform SDK), which cost every run seconds of start-up.
from tfx.components import SchemaGen, Trainer, Transform
from tfx.components.schema_gen.import_schema_gen.component import ImportSchemaGen
from tfx.dsl.components.common.importer import Importer
from tfx.dsl.components.common.resolver import Resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy,
)
from tfx.orchestration.pipeline import Pipeline
from tfx.proto.trainer_pb2 import EvalArgs, TrainArgs
from tfx.types.channel import Channel
from tfx.types.standard_artifacts import Model, ModelBlessing

from components import scale_out
from components.atomic_pusher.component import AtomicPusher
from components.baseline.strategy import PreviousBlessedModelStrategy
from components.drift_gate.component import DriftGate
from components.drift_gate.strategy import PreviousDataBlessingStrategy
from components.fast_evaluator.component import FastEvaluator
from components.fast_statistics_gen.component import FastStatisticsGen
from components.strict_example_validator.component import StrictExampleValidator
from components.traffic_example_gen.component import TrafficExampleGen
from pipeline.config import CityConfig
from pipeline.evaluation import build_eval_config
from pipeline.names import (
    BASELINE_RESOLVER,
    DRIFT_BASELINE_RESOLVER,
    DRIFT_GATE,
    EVALUATOR,
    EXAMPLE_GEN,
    EXAMPLE_VALIDATOR,
    PUSHER,
    SCHEMA_GEN,
    STATISTICS_GEN,
    TRAINER,
    TRANSFORM,
    WARM_START_IMPORTER,
    pipeline_name,
)
from pipeline.schema import schema_file_in

PREPROCESSING_FN = "transforms.preprocessing.preprocessing_fn"
RUN_FN = "transforms.trainer.run_fn"


@dataclass(frozen=True)
class PipelineInputs:
    """Values a runner may pass as plain values or as ``RuntimeParameter``s."""

    data_root: Any
    span_begin: Any = ""
    span_end: Any = ""
    window_days: Any = None  # None: config.data.window_days (0: the span)
    as_of: Any = ""  # the window's last day, YYYY-MM-DD; '' = the newest complete day
    input_token: Any = None  # cache key of the window's files, for caching runners
    train_steps: Any = None
    warm_start_uri: Any = None  # set => an Importer feeds Trainer(base_model=...)
    donor_city: str = ""
    train_args: Any = None  # set => replaces train_steps (e.g. a TrainArgs JSON RuntimeParameter)
    trainer_custom_config: Any = None  # set => the Trainer's custom_config (dict or JSON param)


@dataclass(frozen=True)
class PipelinePaths:
    """Where things live; owned by the runner (local dirs or gs://)."""

    pipeline_root: str
    serving_base: str
    schema_dir: str  # the folder of the curated schemas (pipeline/schema/, or its copy)


DAY_CACHE_DIR = "day_cache"  # under the pipeline root: ExampleGen's per-day entries
STATISTICS_CACHE_DIR = "statistics"  # inside the day cache: StatisticsGen's accumulators


def day_cache_root(pipeline_root: str, city: str) -> str:
    """``<pipeline_root>/day_cache/<pipeline name>``: the city's day cache (a runner-owned
    path, local or ``gs://``); '' without a pipeline root (no reuse)."""
    if not pipeline_root:
        return ""
    return f"{str(pipeline_root).rstrip('/')}/{DAY_CACHE_DIR}/{pipeline_name(city)}"


def window_parameters(config: CityConfig, inputs: PipelineInputs) -> dict[str, Any]:
    """ExampleGen's rolling-window parameters; none without a window (span runs unchanged)."""
    window_days = inputs.window_days if inputs.window_days is not None else config.data.window_days
    if not window_days:
        return {}
    return {
        "window_days": window_days,
        "as_of": inputs.as_of,
        "max_missing_days": config.data.max_missing_days,
        "input_token": inputs.input_token,
    }


def _blessed_model_resolver(
    resolver_id: str, local: tuple[type, dict[str, str], Any] | None, city: str
) -> Any:
    """A resolver of the city's latest blessed model and its blessing.

    ``local`` = (strategy, its node ids, the node it runs after): a strategy of ours that
    reads ML Metadata, restricted to the city and to runs other than this one's node
    output (the local runner). ``None``: the stock LatestBlessedModelStrategy, the one the
    Kubeflow V2 compiler knows, made city-scoped by that runner.
    """
    if local is None:
        args: dict[str, Any] = {"strategy_class": LatestBlessedModelStrategy}
    else:
        strategy, node_ids, _ = local
        args = {
            "strategy_class": strategy,
            "config": {"pipeline_name": pipeline_name(city), "city": city, **node_ids},
        }
    resolver = Resolver(
        **args,
        model=Channel(type=Model),
        model_blessing=Channel(type=ModelBlessing),
    ).with_id(resolver_id)
    if local is not None:
        resolver.add_upstream_node(local[2])  # it must see this run's output first
    return resolver


def _drift_gate(
    config: CityConfig, example_gen: Any, statistics: Any, exclude_same_data: bool
) -> list[Any]:
    """The drift gate's resolver (the city's last blessed run on other data; the stock
    LatestBlessedModelStrategy on Kubeflow V2, made city-scoped by its runner) and the
    DriftGate itself."""
    resolver = _blessed_model_resolver(
        DRIFT_BASELINE_RESOLVER,
        (PreviousDataBlessingStrategy, {"example_gen_node_id": EXAMPLE_GEN}, example_gen)
        if exclude_same_data
        else None,
        config.city,
    )
    gate = DriftGate(
        statistics=statistics,
        examples=example_gen.outputs["examples"],
        baseline=resolver.outputs["model_blessing"],
        mode=config.drift.mode,
        thresholds=config.drift.all_thresholds(),
        data_kind=config.data.kind,
        timezone=config.timezone,
        recent_days=config.drift.recent_days,
    ).with_id(DRIFT_GATE)
    return [resolver, gate]


def create_pipeline(
    config: CityConfig,
    paths: PipelinePaths,
    inputs: PipelineInputs,
    *,
    beam_pipeline_args: list[str] | None = None,
    metadata_connection_config: Any = None,
    enable_cache: bool = True,
    baseline_excludes_candidate: bool = True,
) -> Pipeline:
    """Builds the city's TFX pipeline from its config; no I/O happens here.

    ``baseline_excludes_candidate`` picks PreviousBlessedModelStrategy (an unchanged
    re-run stays fully cached); Kubeflow V2 only compiles the stock
    LatestBlessedModelStrategy, so its runner passes False and restricts the compiled
    query to the city (``components/baseline/scope.py``).
    """
    window = window_parameters(config, inputs)
    if window:  # a rolling window reuses the days it has seen (traffic_example_gen/day_cache.py)
        window["day_cache"] = day_cache_root(paths.pipeline_root, config.city) or None
        window["cache_keep_days"] = config.data.cache_keep_days
    example_gen = TrafficExampleGen(
        input_base=inputs.data_root,
        timezone=config.timezone,
        span_begin=inputs.span_begin,
        span_end=inputs.span_end,
        split_config=json.dumps(config.data.split.to_json_dict()),
        max_reject_fraction=config.data.max_reject_fraction,
        data_kind=config.data.kind,
        duplicates=config.data.duplicates,
        max_missing_hours=config.data.max_missing_hours,
        **window,
    ).with_id(EXAMPLE_GEN)
    examples = example_gen.outputs["examples"]

    statistics_gen = FastStatisticsGen(
        examples=examples,
        memory_budget_mb=config.resources.memory_budget_mb,
        # Next to the day cache: each day file's TFDV accumulators (per_file.py).
        accumulator_cache=f"{window['day_cache']}/{STATISTICS_CACHE_DIR}"
        if window.get("day_cache")
        else None,
    ).with_id(STATISTICS_GEN)
    if config.data.schema_mode == "curated":
        schema_gen = ImportSchemaGen(schema_file=schema_file_in(paths.schema_dir, config.data.kind))
    else:
        schema_gen = SchemaGen(
            statistics=statistics_gen.outputs["statistics"], infer_feature_shape=True
        )
    schema_gen = schema_gen.with_id(SCHEMA_GEN)
    schema = schema_gen.outputs["schema"]

    example_validator = StrictExampleValidator(
        statistics=statistics_gen.outputs["statistics"], schema=schema
    ).with_id(EXAMPLE_VALIDATOR)

    # In place: preprocessing_fn has no analyzers, so with statistics off and nothing
    # materialised Transform only writes the graph; the Trainer applies it to raw examples.
    transform = Transform(
        examples=examples,
        schema=schema,
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=config.preprocessing_config(),
        materialize=False,
        disable_statistics=True,
    ).with_id(TRANSFORM)
    # Bad data stops the run before any feature is computed.
    transform.add_upstream_node(example_validator)

    components: list[Any] = [example_gen, statistics_gen, schema_gen, example_validator, transform]

    base_model = None
    if inputs.warm_start_uri is not None:
        importer = Importer(
            source_uri=inputs.warm_start_uri,
            artifact_type=Model,
            custom_properties={
                "donor_city": inputs.donor_city,
                "warm_start_mode": config.warm_start.mode,
            },
        ).with_id(WARM_START_IMPORTER)
        components.append(importer)
        base_model = importer.outputs["result"]

    train_steps = (
        inputs.train_steps if inputs.train_steps is not None else config.training.train_steps
    )
    trainer = Trainer(
        run_fn=RUN_FN,
        examples=examples,
        transform_graph=transform.outputs["transform_graph"],
        schema=schema,
        base_model=base_model,
        train_args=(
            inputs.train_args if inputs.train_args is not None else TrainArgs(num_steps=train_steps)
        ),
        eval_args=EvalArgs(num_steps=config.training.eval_steps),
        custom_config=(
            inputs.trainer_custom_config
            if inputs.trainer_custom_config is not None
            # On a cluster's runner, a train split over the budget is read by a Beam job.
            else {
                **config.trainer_custom_config(),
                **scale_out.trainer_config(list(beam_pipeline_args or [])),
            }
        ),
    ).with_id(TRAINER)

    baseline_resolver = _blessed_model_resolver(
        BASELINE_RESOLVER,
        (PreviousBlessedModelStrategy, {"trainer_node_id": TRAINER}, trainer)
        if baseline_excludes_candidate
        else None,
        config.city,
    )
    components += [trainer, baseline_resolver]

    drift_gate = None
    if config.drift.mode != "off":
        drift_nodes = _drift_gate(
            config, example_gen, statistics_gen.outputs["statistics"], baseline_excludes_candidate
        )
        components += drift_nodes
        drift_gate = drift_nodes[-1]

    evaluator = FastEvaluator(
        examples=examples,
        model=trainer.outputs["model"],
        baseline_model=baseline_resolver.outputs["model"],
        example_splits=["eval"],
        eval_config=build_eval_config(config.evaluation, config.data.kind),
        city=config.city,  # on the blessing: resolvers are restricted to the city
        drift_statistics=drift_gate.outputs["drift_statistics"] if drift_gate else None,
        memory_budget_mb=config.resources.memory_budget_mb,
    ).with_id(EVALUATOR)
    components.append(evaluator)

    pusher = AtomicPusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        serving_base=paths.serving_base,
    ).with_id(PUSHER)
    components.append(pusher)
    return Pipeline(
        pipeline_name=pipeline_name(config.city),
        pipeline_root=paths.pipeline_root,
        components=components,
        enable_cache=enable_cache,
        metadata_connection_config=metadata_connection_config,
        beam_pipeline_args=list(beam_pipeline_args or []),
    )
