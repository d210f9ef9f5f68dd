"""The local ``run`` and ``lineage`` commands: config, data, donor, run, summary."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import tempfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from components.traffic_example_gen.splits import eval_day_count
from deploy import metadata
from deploy.layout import LocalLayout
from deploy.synthetic import cities, generator
from pipeline import exit_codes
from pipeline import names as wiring
from pipeline.config import CityConfig, ConfigError, load_config
from transforms import features

# Heavy modules (TFX, TensorFlow, Beam) are imported inside ``run_command``: ``lineage``
# only reads MLMD and must answer in about a second.


def _fail(message: str, code: int = exit_codes.BAD_INPUT) -> int:
    exit_codes.error(message)
    return code


def _latest_log(log_dir: Path) -> Path:
    """The newest run log in ``log_dir`` (the directory itself if there is none)."""
    logs = sorted(log_dir.glob("run-*.log"), key=lambda p: p.stat().st_mtime)
    return logs[-1] if logs else log_dir


def check_writable_dir(path: Path, option: str) -> None:
    """Raises UsageError unless ``path`` is (or can be made) a writable directory."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as err:
        raise exit_codes.UsageError(
            f"{option} {path}: not writable ({err.strerror or err})"
        ) from err


def ensure_generated_data(config: CityConfig, layout: LocalLayout) -> Path:
    """Generates the city's default data once; later runs reuse it (cache hits)."""
    out = layout.data_dir(config.city, config.data.kind)
    if (out / "ground_truth.json").is_file():
        print(f"using generated data in {out}")
        return out
    gen = config.generator
    profile = cities.get_city(config.city, timezone=config.timezone)
    result = generator.generate(
        profile,
        out,
        days=gen.days,
        start_date=date.fromisoformat(gen.start_date),
        seed=gen.seed,
        intersections=gen.intersections,
        scale=gen.scale,
        kind=config.data.kind,
    )
    print(f"generated {result.total_rows} {config.data.kind} rows for {config.city} in {out}")
    return out


def _apply_overrides(config: CityConfig, args: argparse.Namespace) -> CityConfig:
    if args.train_steps is not None:
        config = config.replace(
            training=dataclasses.replace(config.training, train_steps=args.train_steps)
        )
    if args.warm_start_from or args.warm_start_mode:
        if not (args.warm_start_from and args.warm_start_mode):
            raise ConfigError("--warm-start-from and --warm-start-mode go together")
        config = config.replace(
            warm_start=dataclasses.replace(
                config.warm_start, model=args.warm_start_from, mode=args.warm_start_mode
            )
        )
    return config


def _layout(args: argparse.Namespace, config_metadata: str = "") -> LocalLayout:
    """The output layout; ``--metadata`` (else the config's) picks the MLMD store."""
    store = args.metadata or config_metadata
    if args.metadata:
        metadata.check_location(args.metadata)  # the config's key is checked when it loads
    if store and not metadata.is_mysql(store):
        store = str(Path(store).resolve())  # a SQLite file elsewhere than the output dir
    return LocalLayout(Path(args.output).resolve(), metadata_store=store)


def component_outputs(layout: LocalLayout, city: str) -> list[Path]:
    """Output folders of the city's components: ``<root>/<node>/<key>/<execution id>``."""
    root, own = layout.pipeline_root(city), {layout.log_dir(city), layout.tmp_dir(city)}
    found = []
    for node in sorted(root.iterdir()) if root.is_dir() else []:
        if not node.is_dir() or node.name.startswith(".") or node in own:
            continue
        for key in sorted(k for k in node.iterdir() if k.is_dir() and not k.name.startswith(".")):
            found += sorted(d for d in key.iterdir() if d.is_dir() and d.name.isdigit())
    return found


def check_store_matches_output(layout: LocalLayout, city: str, pipeline_name: str) -> None:
    """Raises UsageError when the store knows nothing of the pipeline but the pipeline root
    holds its outputs: they were recorded in another store, and TFX would number new
    executions from 1 again and fail on the first folder that exists
    (``AlreadyExistsError: file already exists``, naming no path)."""
    location = layout.metadata_location
    outputs = component_outputs(layout, city)
    if not outputs or metadata.has_pipeline(location, pipeline_name):
        return
    raise exit_codes.UsageError(
        f"ML Metadata store {metadata.redact(location)} has no record of pipeline "
        f"{pipeline_name}, but {layout.pipeline_root(city)} holds its outputs from another "
        f"store (e.g. {outputs[0]}): pass the store that made them with --metadata (the "
        f"default is {layout.metadata_path}), or use a new --output, or remove "
        f"{layout.pipeline_root(city)} to start {city} afresh"
    )


def run_command(args: argparse.Namespace, progress: Callable[[str, str, float], None]) -> int:
    """``traffic-pipeline run``."""
    from components.traffic_example_gen.inputs import check_inputs
    from deploy import abandoned, donors
    from deploy.local_runner import ComponentFailedError, RunInterrupted, run_pipeline
    from deploy.run_summary import format_summary, summarize_run
    from transforms.warm_start import WarmStartError

    try:
        config = _apply_overrides(load_config(args.city, args.config), args)
        layout = _layout(args, config.metadata)
        check_writable_dir(layout.output_dir, "--output")
        if metadata.is_mysql(layout.metadata_location):  # unreachable: say so before running
            metadata.open_store(layout.metadata_location)
        check_store_matches_output(layout, config.city, wiring.pipeline_name(config.city))
        donor = None  # resolved first: a bad donor should not cost a data generation
        if config.warm_start.enabled:
            donor = donors.resolve_donor(config.warm_start, layout)
            donors.check_donor(donor, config)  # incompatible or corrupt: before any run
            print(f"warm start ({config.warm_start.mode}) from {donor.describe()}")
        if args.data:
            data_root = str(Path(args.data).resolve())
            if not Path(data_root).is_dir():
                raise ConfigError(f"--data {args.data}: no such directory")
        elif config.data.input_base:
            data_root = config.data.input_base
        else:
            data_root = str(ensure_generated_data(config, layout))
        if "://" not in data_root:  # local input: check files and headers before running
            check_inputs(
                data_root,
                config.data.span_begin,
                config.data.span_end,
                json.dumps(config.data.split.to_json_dict()),
                config.data.kind,
            )
    except (ConfigError, donors.DonorError, ValueError, OSError) as err:
        prefix = "WarmStartError: " if isinstance(err, WarmStartError) else ""
        return _fail(f"{prefix}{err}")

    root = layout.pipeline_root(config.city)
    name = wiring.pipeline_name(config.city)
    print(f"running pipeline {name} (root {root})")
    try:
        with abandoned.run_lock(root, name) as stale_owner:
            abandoned.remove_temp(layout.tmp_dir(config.city))
            store_location = layout.metadata_location
            if metadata.is_mysql(store_location) or Path(store_location).is_file():
                marked = abandoned.mark_abandoned_executions(
                    metadata.open_store(store_location),
                    name,
                    root,
                    layout.serving_base(config.city),
                    stale_owner,
                )
                if marked:
                    print(abandoned.describe(marked))
            run_id = run_pipeline(
                config,
                layout,
                data_root,
                workers=args.workers,
                enable_cache=not args.no_cache,
                warm_start_uri=donor.uri if donor else None,
                donor_city=donor.city if donor else "",
                progress=progress,
            )
    except abandoned.AlreadyRunningError as err:
        return _fail(str(err))
    except RunInterrupted as err:  # the next run marks what it left RUNNING as abandoned
        return _fail(
            f"interrupted during {err.component}; re-run resumes from cache",
            exit_codes.INTERRUPTED,
        )
    except ComponentFailedError as err:
        log = _latest_log(layout.log_dir(config.city))
        if not log.is_file() or not exit_codes.append_traceback(err, log):
            log = exit_codes.write_traceback(err, layout.log_dir(config.city))
        exit_codes.error(
            f"FAILED at {err.component}: {type(err.reason).__name__}: {err.reason}", log
        )
        return exit_codes.COMPONENT_FAILED
    store = metadata.open_store(layout.metadata_location)
    summary = summarize_run(store, name, run_id)
    print(format_summary(summary))
    if summary.blessed is False:
        exit_codes.error(
            f"{config.city}: the model was not blessed ({summary.blessing_reason}); "
            "nothing was pushed"
        )
        return exit_codes.NOT_BLESSED
    return exit_codes.OK


def lineage_command(args: argparse.Namespace) -> int:
    """``traffic-pipeline lineage``: train and eval spans, donor and mode of the latest model.

    Reads only MLMD (no TensorFlow import), so it answers in about a second.
    """
    layout = _layout(args)
    try:
        store = metadata.open_store(layout.metadata_location)
    except (FileNotFoundError, metadata.MetadataLocationError) as err:
        return _fail(str(err))
    name = wiring.pipeline_name(args.city)
    trainer = metadata.latest_execution_of(store, name, wiring.TRAINER)
    if trainer is None:
        where = metadata.redact(layout.metadata_location)
        return _fail(f"no trained model for city {args.city!r} in {where}")
    model = metadata.outputs_of(store, trainer.id, "model")
    print(f"city {args.city}: model {model[0].uri if model else '?'} (execution {trainer.id})")
    custom_config = json.loads(trainer.properties["custom_config"].string_value or "{}")
    for raw in raw_examples(store, trainer.id):
        train, evaluation = split_spans(metadata.custom_properties(raw))
        print(f"  trained on: {train}")
        print(f"  evaluated on: {evaluation}")
        print(f"  input: {_input_files(metadata.custom_properties(raw), raw.id)}")
    donors_in = metadata.inputs_of(store, trainer.id, "base_model")
    if not donors_in:
        print("  warm start: none (cold start)")
        return 0
    donor = donors_in[0]
    props = metadata.custom_properties(donor)
    version = os.path.basename(donor.uri.rstrip("/"))
    print(
        f"  donor model: city {props.get('donor_city') or '?'}, uri {donor.uri}, "
        f"version {version}, artifact id {donor.id}"
    )
    print(f"  mode: {custom_config.get('warm_start_mode') or props.get('warm_start_mode') or '?'}")
    spec = _read_local_spec(donor.uri)
    if spec:
        shared = {k: spec.get(k) for k in ("cross_buckets", "embedding_dim", "timezone")}
        print(f"  donor embedding spec: {shared}")
    return 0


def _read_local_spec(model_dir: str) -> dict | None:
    """The donor's embedding_spec.json if it is on local disk (remote: see ``explain``)."""
    for base in (Path(model_dir), Path(model_dir) / "Format-Serving"):
        path = base / features.EMBEDDING_SPEC_FILE
        if "://" not in model_dir and path.is_file():
            return json.loads(path.read_text())
    return None


def raw_examples(store, trainer_execution_id: int) -> list:
    """ExampleGen's examples artifacts behind the Trainer's ``examples`` input.

    The Trainer's ``examples`` are ExampleGen's (or, in older runs, Transform's
    materialised copy, whose producer's input holds the span).
    """
    result = []
    for given in metadata.inputs_of(store, trainer_execution_id, "examples"):
        if "first_day" in metadata.custom_properties(given):
            result.append(given)
            continue
        producer = metadata.producer_of(store, given.id)
        result += metadata.inputs_of(store, producer.id, "examples") if producer else []
    return result


def split_spans(props: dict) -> tuple[str, str]:
    """(train span, eval span) of ExampleGen's examples, from its custom properties.

    A time split evaluates on the last local days (``eval_days``, or ``eval_fraction`` of
    the input days, rounded as ExampleGen rounds it); a hash split mixes every day.
    """
    first, last = props.get("first_day"), props.get("last_day")
    counts = f"{props.get('examples_train', '?')} train / {props.get('examples_eval', '?')} eval"
    if not first or not last:
        return "unknown", "unknown"
    split = json.loads(props.get("split_config") or "{}")
    n_days = int(props.get("input_files") or 0)
    train_rows = f"({props.get('examples_train', '?')} examples)"
    eval_rows = f"({props.get('examples_eval', '?')} examples)"
    if split.get("kind", "time") != "time" or not n_days:
        both = f"{first} .. {last}, rows hashed ({counts}, split {json.dumps(split)})"
        return both, both
    n_eval = eval_day_count(split, n_days)
    first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    if (last_day - first_day).days + 1 != n_days:  # gaps: only the count is known
        return (
            f"{first} .. the first {n_days - n_eval} of {n_days} input days {train_rows}",
            f"the last {n_eval} input days .. {last} {eval_rows}",
        )
    eval_first = last_day - timedelta(days=n_eval - 1)
    train_last = eval_first - timedelta(days=1)
    return (
        f"{first} .. {train_last.isoformat()} ({n_days - n_eval} days) {train_rows}",
        f"{eval_first.isoformat()} .. {last} ({n_eval} days) {eval_rows}",
    )


def _input_files(props: dict, artifact_id: int) -> str:
    return (
        f"{props.get('first_day', '?')} .. {props.get('last_day', '?')} "
        f"({props.get('input_files', '?')} daily files, examples artifact {artifact_id})"
    )


def training_span(store, trainer_execution_id: int) -> str:
    """The train span of the raw examples the Trainer read (eval days excluded), and the
    input it was split from."""
    spans = []
    for raw in raw_examples(store, trainer_execution_id):
        props = metadata.custom_properties(raw)
        spans.append(f"{split_spans(props)[0]} of input {_input_files(props, raw.id)}")
    return "; ".join(spans) or "unknown"
