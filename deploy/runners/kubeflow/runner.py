"""Compiles a city's pipeline for Kubeflow Pipelines v2 / Vertex AI Pipelines, offline.

The SAME ``create_pipeline(config, ...)`` the local runner uses is compiled with
``KubeflowV2DagRunner`` (pipeline spec schema 2.1, understood by Vertex AI and KFP 2.x).
Nothing is uploaded and no cloud credential is needed: the preprocessing and training
code are import paths into the pipeline image, and the curated schema is a file inside
that image (``CONTAINER_SCHEMA_DIR``, where ``deploy/Dockerfile`` copies the source).

Runtime parameters (root inputs of the compiled spec, each with a default):

- ``data_root``: ExampleGen ``input_base`` (a ``gs://`` dir of daily files).
- ``span_begin`` / ``span_end``: inclusive ``YYYY-MM-DD`` day range ('' = open); only
  without a rolling window.
- with ``data.window_days`` (or ``--window-days``) instead: ``window_days`` (N) and
  ``as_of`` ('' = the newest complete day). ExampleGen resolves the window when it
  starts, so a schedule trains on a moving window and the spec holds no date. Its step
  is compiled with caching off: the cache key of a step is its parameters, which stay
  the same every night, so a cached ExampleGen would replay the first night's window.
- ``train_args``: the Trainer's ``TrainArgs`` as JSON, e.g. ``{"num_steps": 2000}``.
  A proto field cannot hold a RuntimeParameter, but TFX accepts a string parameter for
  the whole proto (``submit --param train_steps=N`` writes this JSON for you).
- ``serving_base``: where AtomicPusher publishes blessed models.
- only with a warm-start mode: ``warm_start_uri`` (the Importer's artifact uri) and
  ``trainer_custom_config`` (the Trainer's ``custom_config`` as JSON). KubeflowV2 only
  substitutes top-level execution properties, and ``custom_config`` is serialised to one
  JSON string when the Trainer is built, so a RuntimeParameter *inside* it would reach
  ``run_fn`` as the parameter's own JSON description, never as its value. The whole
  ``custom_config`` is therefore the parameter; ``run_fn`` keeps reading
  ``custom_config["warm_start_mode"]`` unchanged (``submit --param
  warm_start_mode=fine_tune`` rewrites that key in the JSON for you).
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.baseline import scope
from deploy.runners import beam_profiles
from pipeline.config import PREVIOUS_MODEL, CityConfig, ConfigError
from pipeline.names import BASELINE_RESOLVER, DRIFT_BASELINE_RESOLVER, EXAMPLE_GEN

# TFX (and so TensorFlow) is imported inside the functions that need it, so that the
# CLI's argument parser stays fast to build.

TARGETS = ("vertex", "kubeflow")

# Where deploy/Dockerfile copies the source tree inside the pipeline image.
CONTAINER_SOURCE_DIR = "/opt/traffic-embeddings"
CONTAINER_SCHEMA_DIR = f"{CONTAINER_SOURCE_DIR}/pipeline/schema"

# Runtime parameter names (root inputs of the compiled pipeline spec).
DATA_ROOT = "data_root"
SPAN_BEGIN = "span_begin"
SPAN_END = "span_end"
WINDOW_DAYS = "window_days"
AS_OF = "as_of"
TRAIN_ARGS = "train_args"
SERVING_BASE = "serving_base"
WARM_START_URI = "warm_start_uri"
TRAINER_CUSTOM_CONFIG = "trainer_custom_config"
# Convenience names that submit folds into the JSON parameters above.
TRAIN_STEPS = "train_steps"  # -> train_args.num_steps
WARM_START_MODE = "warm_start_mode"  # -> trainer_custom_config["warm_start_mode"]

_DESCRIPTIONS = {
    DATA_ROOT: "Directory (gs://...) of daily observation files YYYY-MM-DD.csv[.gz]|.parquet.",
    SPAN_BEGIN: "First day to read, YYYY-MM-DD inclusive; empty = from the first file.",
    SPAN_END: "Last day to read, YYYY-MM-DD inclusive; empty = up to the last file.",
    WINDOW_DAYS: "Rolling window: the newest N complete local days, resolved at run time.",
    AS_OF: "Last day of the window, YYYY-MM-DD; empty = the newest complete day.",
    TRAIN_ARGS: 'Trainer TrainArgs as JSON, e.g. {"num_steps": 2000}.',
    SERVING_BASE: "Directory (gs://...) where blessed models are published as <version>/.",
    WARM_START_URI: "Donor model directory imported as the Trainer's base_model.",
    TRAINER_CUSTOM_CONFIG: "Trainer custom_config as JSON; its warm_start_mode is "
    "frozen | fine_tune.",
}


@dataclass(frozen=True)
class CompileOptions:
    """Everything a compile needs besides the city config; paths may be gs://."""

    image: str
    target: str = "vertex"
    pipeline_root: str = ""  # default gcsOutputDirectory; submit may override it
    data_root: str = ""  # default of the data_root parameter
    serving_base: str = ""  # default: <pipeline_root>/serving/<city>
    span_begin: str | None = None  # default: config.data.span_begin
    span_end: str | None = None
    train_steps: int | None = None  # default: config.training.train_steps
    warm_start_uri: str = ""  # default of warm_start_uri (only with a warm-start mode)
    donor_city: str = ""
    enable_cache: bool = True


def default_serving_base(pipeline_root: str, city: str) -> str:
    """``<pipeline_root>/serving/<city>``, or '' without a pipeline root."""
    return f"{pipeline_root.rstrip('/')}/serving/{city}" if pipeline_root else ""


def container_beam_args(config: CityConfig, image: str) -> list[str]:
    """Beam args for the pipeline's containers, from ``config.beam`` (its profile).

    For the direct profile with ``direct_num_workers: 0`` the compiled value stays 0
    (Beam then uses every core of the worker container), instead of the core count of
    the machine that happens to compile.
    """
    args = beam_profiles.beam_args(config.beam, image=image)
    if config.beam.profile == "direct" and config.beam.direct_num_workers == 0:
        set_here = ("--direct_num_workers=", "--direct_running_mode=")
        args = [a for a in args if not a.startswith(set_here)]
        args[1:1] = ["--direct_num_workers=0", "--direct_running_mode=multi_processing"]
    return args


def runtime_parameters(config: CityConfig, options: CompileOptions) -> dict[str, Any]:
    """The RuntimeParameters of this compile, keyed by name."""
    from tfx import v1 as tfx

    param = tfx.dsl.experimental.RuntimeParameter
    data = config.data
    span_begin = data.span_begin if options.span_begin is None else options.span_begin
    span_end = data.span_end if options.span_end is None else options.span_end
    steps = options.train_steps or config.training.train_steps
    serving = options.serving_base or default_serving_base(options.pipeline_root, config.city)
    params = {
        DATA_ROOT: param(name=DATA_ROOT, ptype=str, default=options.data_root or data.input_base)
    }
    if data.window_days:
        if options.span_begin or options.span_end:
            raise ConfigError(
                "a window (data.window_days) and --span-begin/--span-end exclude each other"
            )
        params[WINDOW_DAYS] = param(name=WINDOW_DAYS, ptype=int, default=data.window_days)
        params[AS_OF] = param(name=AS_OF, ptype=str, default="")
    else:
        params[SPAN_BEGIN] = param(name=SPAN_BEGIN, ptype=str, default=span_begin)
        params[SPAN_END] = param(name=SPAN_END, ptype=str, default=span_end)
    params |= {
        TRAIN_ARGS: param(name=TRAIN_ARGS, ptype=str, default=json.dumps({"num_steps": steps})),
        SERVING_BASE: param(name=SERVING_BASE, ptype=str, default=serving),
    }
    if config.warm_start.enabled:
        if config.warm_start.model == PREVIOUS_MODEL and not options.warm_start_uri:
            raise ConfigError(
                "warm_start.model 'previous' is resolved in a local MLMD store; for "
                "Kubeflow/Vertex pass --warm-start-uri (a pushed model dir of the city)"
            )
        if config.warm_start.from_city and not (options.warm_start_uri or config.warm_start.model):
            raise ConfigError(
                f"warm_start.from_city {config.warm_start.from_city!r} needs a local MLMD "
                "store; for Kubeflow/Vertex pass --warm-start-uri (a pushed model dir, "
                "e.g. gs://.../serving/<donor>/<version>)"
            )
        custom_config = json.dumps(config.trainer_custom_config(), sort_keys=True)
        donor = options.warm_start_uri or config.warm_start.model
        params[WARM_START_URI] = param(name=WARM_START_URI, ptype=str, default=donor)
        params[TRAINER_CUSTOM_CONFIG] = param(
            name=TRAINER_CUSTOM_CONFIG, ptype=str, default=custom_config
        )
    return params


def build_pipeline(config: CityConfig, options: CompileOptions) -> Any:
    """``create_pipeline`` wired with this runner's paths and runtime parameters."""
    from pipeline.pipeline import PipelineInputs, PipelinePaths, create_pipeline

    if options.target not in TARGETS:
        raise ConfigError(f"--target {options.target!r} is not one of {TARGETS}")
    if not options.image:
        raise ConfigError("an image is required (--image or the config's image)")
    params = runtime_parameters(config, options)
    inputs = PipelineInputs(
        data_root=params[DATA_ROOT],
        span_begin=params.get(SPAN_BEGIN, ""),
        span_end=params.get(SPAN_END, ""),
        window_days=params.get(WINDOW_DAYS, 0),
        as_of=params.get(AS_OF, ""),
        train_args=params[TRAIN_ARGS],
        warm_start_uri=params.get(WARM_START_URI),
        trainer_custom_config=params.get(TRAINER_CUSTOM_CONFIG),
        donor_city=options.donor_city or config.warm_start.from_city,
    )
    paths = PipelinePaths(
        pipeline_root=options.pipeline_root,
        serving_base=params[SERVING_BASE],
        schema_dir=CONTAINER_SCHEMA_DIR,
    )
    return create_pipeline(
        config,
        paths,
        inputs,
        beam_pipeline_args=container_beam_args(config, options.image),
        enable_cache=options.enable_cache,
        baseline_excludes_candidate=False,  # KFP V2 compiles only the stock strategies
    )


def compile_pipeline(
    config: CityConfig, options: CompileOptions, output: str | os.PathLike[str]
) -> dict[str, Any]:
    """Compiles to ``output`` (.json: PipelineJob; .yaml: PipelineSpec); returns the job dict.

    Every runtime parameter gets its default both in the job's ``runtimeConfig`` and as
    ``defaultValue`` of the root input (KFP reads the latter from a bare PipelineSpec).
    """
    from tfx import v1 as tfx

    output = str(output)
    if not output.endswith((".json", ".yaml", ".yml")):
        raise ConfigError(f"--output {output}: must end with .json, .yaml or .yml")
    pipeline = build_pipeline(config, options)
    params = runtime_parameters(config, options)
    defaults = {name: p.default for name, p in params.items()}
    runner_config = tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
        display_name=pipeline.pipeline_info.pipeline_name,
        default_image=options.image,
        use_pipeline_spec_2_1=True,
    )
    with tempfile.TemporaryDirectory() as scratch:  # run() needs a dir even without writing
        runner = tfx.orchestration.experimental.KubeflowV2DagRunner(
            runner_config, output_dir=scratch
        )
        job = runner.run(pipeline, parameter_values=defaults, write_out=False)
    spec = job["pipelineSpec"]
    restrict_baseline_to_city(spec, config.city)
    if config.drift.mode != "off":  # the drift gate's baseline: the same query, its own task
        restrict_baseline_to_city(spec, config.city, DRIFT_BASELINE_RESOLVER)
    if WINDOW_DAYS in params:  # see the module docstring: a cached window would not move
        spec["root"]["dag"]["tasks"][EXAMPLE_GEN].pop("cachingOptions", None)
    for name, definition in spec["root"].get("inputDefinitions", {}).get("parameters", {}).items():
        if name in defaults:
            definition["defaultValue"] = defaults[name]
            definition["description"] = _DESCRIPTIONS[name]
    if options.pipeline_root:
        spec["defaultPipelineRoot"] = options.pipeline_root
    _write(job, output)
    return job


# TFX 1.16's KubeflowV2 compiler splits the Resolver into two tasks; this one queries
# the latest blessing (tfx/orchestration/kubeflow/v2/step_builder.py).
def blessing_resolver_executor(resolver_id: str) -> str:
    """The compiled executor of a LatestBlessedModelStrategy Resolver's blessing query."""
    return f"{resolver_id}-model-blessing-resolver_executor"


BLESSING_RESOLVER_EXECUTOR = blessing_resolver_executor(BASELINE_RESOLVER)


def restrict_baseline_to_city(
    spec: dict[str, Any], city: str, resolver_id: str = BASELINE_RESOLVER
) -> None:
    """Appends the city clause (``scope.vertex_blessing_filter``) to the compiled
    latest-blessing query of ``resolver_id`` (the Evaluator's baseline, or the drift
    gate's), which TFX compiles with no pipeline or city restriction; the Model query
    then follows that blessing's ``current_model_id``."""
    name = blessing_resolver_executor(resolver_id)
    executor = spec["deploymentSpec"]["executors"].get(name)
    if executor is None:
        raise RuntimeError(
            f"compiled spec has no {name}: the TFX compiler changed; "
            f"{resolver_id} would not be restricted to the city"
        )
    queries = executor["resolver"]["outputArtifactQueries"]
    for query in queries.values():
        query["filter"] += f" AND {scope.vertex_blessing_filter(city)}"


def _write(job: dict[str, Any], output: str) -> None:
    from tfx.dsl.io import fileio  # gs:// outputs work too

    parent = os.path.dirname(output)
    if parent and not fileio.exists(parent):
        fileio.makedirs(parent)
    with fileio.open(output, "w") as f:
        if output.endswith(".json"):
            f.write(json.dumps(job, sort_keys=True, indent=1))
        else:
            f.write(yaml.safe_dump(job["pipelineSpec"], sort_keys=True))


def load_template(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Reads a compiled template; returns the PipelineSpec dict (from .json or .yaml)."""
    text = Path(path).read_text()
    doc = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: not a compiled pipeline (no mapping at top level)")
    spec = doc.get("pipelineSpec", doc)
    if "root" not in spec or "pipelineInfo" not in spec:
        raise ConfigError(f"{path}: not a compiled pipeline (no root / pipelineInfo)")
    return spec


def with_overrides(config: CityConfig, **beam_overrides: Any) -> CityConfig:
    """``config`` with the non-empty ``beam`` fields replaced (e.g. ``profile``)."""
    changes = {k: v for k, v in beam_overrides.items() if v not in (None, "")}
    if not changes:
        return config
    return config.replace(beam=dataclasses.replace(config.beam, **changes))
