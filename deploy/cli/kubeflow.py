"""``traffic-pipeline compile`` and ``traffic-pipeline submit`` (Kubeflow v2 / Vertex AI)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from pathlib import Path

from deploy import exit_codes
from deploy.runners import beam_profiles
from deploy.runners.kubeflow import runner as kr
from deploy.runners.kubeflow import submit_request, vertex_submit
from pipeline.config import WARM_START_MODES, CityConfig, ConfigError, load_config


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``compile`` and ``submit``; each sets ``func(args) -> exit code``."""
    p = subparsers.add_parser(
        "compile", help="compile a city's pipeline for Vertex AI / Kubeflow (offline)"
    )
    _add_compile_args(p, city_required=True)
    p.add_argument("--output", required=True, help="pipeline.json (PipelineJob) or .yaml (spec)")
    p.set_defaults(func=compile_command)

    p = subparsers.add_parser(
        "submit", help="submit a compiled pipeline to Vertex AI / Kubeflow (or --dry-run)"
    )
    p.add_argument("--template", help="a compiled pipeline (default: compile from --city ...)")
    _add_compile_args(p, city_required=False)
    p.add_argument("--project", help="Google Cloud project (vertex)")
    p.add_argument("--region", help="Vertex AI region, e.g. europe-west4 (vertex)")
    p.add_argument("--host", help="KFP API endpoint URL (kubeflow)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="runtime parameter value; also train_steps=N, warm_start_mode=M",
    )
    p.add_argument(
        "--schedule",
        default="",
        metavar="CRON",
        help="create a schedule instead of one run, e.g. '0 3 * * *' (UTC)",
    )
    p.add_argument("--display-name", default="", help="run/schedule name (default: pipeline name)")
    p.add_argument("--experiment", default="", help="KFP experiment (kubeflow)")
    p.add_argument("--service-account", default="")
    p.add_argument("--dry-run", action="store_true", help="print the request, send nothing")
    p.set_defaults(func=submit_command)


def _add_compile_args(p: argparse.ArgumentParser, *, city_required: bool) -> None:
    p.add_argument("--target", choices=kr.TARGETS, default="vertex")
    p.add_argument("--city", required=city_required)
    p.add_argument("--config", help="YAML config (default: the built-in one for --city)")
    p.add_argument("--image", help="pipeline image (default: the config's image)")
    p.add_argument("--pipeline-root", default="", help="artifact root, e.g. gs://BUCKET/pipelines")
    p.add_argument("--data-root", default="", help="default of data_root, e.g. gs://BUCKET/data/C")
    p.add_argument(
        "--serving-base",
        default="",
        help="default of serving_base (default: <pipeline-root>/serving/<city>)",
    )
    p.add_argument("--span-begin", help="default of span_begin, YYYY-MM-DD")
    p.add_argument("--span-end", help="default of span_end, YYYY-MM-DD")
    p.add_argument(
        "--window-days",
        type=int,
        help="rolling window of N complete days resolved at run time (parameters "
        "window_days, as_of) instead of the span (default: the config's data.window_days)",
    )
    p.add_argument("--train-steps", type=int, help="default of train_args.num_steps")
    p.add_argument(
        "--warm-start-mode",
        choices=WARM_START_MODES,
        help="add the warm-start Importer (parameters warm_start_uri, warm_start_mode)",
    )
    p.add_argument("--warm-start-uri", default="", help="default donor model dir (gs://...)")
    p.add_argument("--donor-city", default="", help="recorded on the imported donor model")
    p.add_argument(
        "--beam-profile", choices=beam_profiles.PROFILES, help="overrides the config's beam.profile"
    )
    p.add_argument("--beam-project", help="beam.project (dataflow)")
    p.add_argument("--beam-region", help="beam.region (dataflow)")
    p.add_argument("--beam-temp-location", help="beam.temp_location (dataflow), gs://...")
    p.add_argument("--beam-job-endpoint", help="beam.job_endpoint (flink / spark)")
    p.add_argument("--no-cache", action="store_true", help="disable step caching")


def _config(args: argparse.Namespace) -> CityConfig:
    config = load_config(args.city, args.config)
    config = kr.with_overrides(
        config,
        profile=args.beam_profile,
        project=args.beam_project,
        region=args.beam_region,
        temp_location=args.beam_temp_location,
        job_endpoint=args.beam_job_endpoint,
    )
    if args.warm_start_mode:
        config = config.replace(
            warm_start=dataclasses.replace(config.warm_start, mode=args.warm_start_mode)
        )
    if args.window_days is not None:  # validated with the rest of the config
        config = config.replace(
            data=dataclasses.replace(
                config.data, window_days=args.window_days, span_begin="", span_end=""
            )
        )
    return config


def _options(args: argparse.Namespace, config: CityConfig) -> kr.CompileOptions:
    image = args.image or config.image
    if "/" not in image.split(":")[0]:
        print(
            f"warning: image {image!r} names no registry; Vertex AI / Kubeflow must be able "
            "to pull it (e.g. REGION-docker.pkg.dev/PROJECT/REPO/traffic-embeddings:TAG)",
            file=sys.stderr,
        )
    return kr.CompileOptions(
        image=image,
        target=args.target,
        pipeline_root=args.pipeline_root,
        data_root=args.data_root,
        serving_base=args.serving_base,
        span_begin=args.span_begin,
        span_end=args.span_end,
        train_steps=args.train_steps,
        warm_start_uri=args.warm_start_uri,
        donor_city=args.donor_city,
        enable_cache=not args.no_cache,
    )


def _compile(args: argparse.Namespace, output: str) -> dict:
    config = _config(args)
    options = _options(args, config)
    job = kr.compile_pipeline(config, options, output)
    params = job["pipelineSpec"]["root"].get("inputDefinitions", {}).get("parameters", {})
    print(f"compiled {job['pipelineSpec']['pipelineInfo']['name']} for {args.target} -> {output}")
    print(
        f"  image {options.image}; beam profile {config.beam.profile}; "
        f"parameters: {', '.join(sorted(params))}"
    )
    return job


def compile_command(args: argparse.Namespace) -> int:
    """``traffic-pipeline compile``."""
    try:
        _compile(args, args.output)
    except (ConfigError, ValueError, OSError) as err:
        return exit_codes.fail(str(err))
    return 0


def submit_command(args: argparse.Namespace) -> int:
    """``traffic-pipeline submit``: compile (unless --template), validate, send or print."""
    with tempfile.TemporaryDirectory(prefix="traffic-pipeline-") as scratch:
        try:
            if args.template:
                template = args.template
                if not Path(template).is_file():
                    raise ConfigError(f"--template {template}: no such file")
            elif args.city:
                template = str(Path(scratch) / "pipeline.json")
                _compile(args, template)
            else:
                raise ConfigError("pass --template FILE or the compile arguments (--city ...)")
            request = submit_request.build_request(
                args.target,
                template,
                args.pipeline_root,
                submit_request.parse_params(args.param),
                schedule=args.schedule,
                project=args.project or "",
                region=args.region or "",
                host=args.host or "",
                experiment=args.experiment,
                service_account=args.service_account,
                display_name=args.display_name,
                enable_caching=False if args.no_cache else None,
            )
            return vertex_submit.submit(request, dry_run=args.dry_run)
        except (ConfigError, ValueError, OSError) as err:
            return exit_codes.fail(str(err))
