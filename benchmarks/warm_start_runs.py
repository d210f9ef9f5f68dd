"""Running city pipelines for the warm-start benchmarks.

Generates (or reuses) a city's data, writes a config with a time split, runs
``traffic-pipeline run`` with its console output in a log file and reads the run back
from its MLMD store (examples artifact, model dir, blessing). Used by
``benchmarks.warm_start_benefit`` and ``benchmarks.warm_start_days``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.datasets.synthetic import cities, generator
from deploy.mlmd import metadata
from pipeline.config import CONFIG_PACKAGE

if TYPE_CHECKING:  # modules that import TensorFlow load in the functions, after main()
    from deploy.runners.local.run_summary import RunSummary
    from deploy.runners.local.runner import LocalLayout


class BenchmarkError(RuntimeError):
    """A step of the benchmark failed; the message says which and where the log is."""


@dataclasses.dataclass(frozen=True)
class PipelineRun:
    """One finished pipeline run, read back from its MLMD store."""

    name: str
    summary: RunSummary
    examples_uri: str
    seconds: float
    cached_components: int

    @property
    def model_dir(self) -> str:
        return self.summary.model_dir


def ensure_data(city: str, out: Path, days: int) -> Path:
    """Generates ``days`` days of ``city`` with its default seed, unless already there."""
    truth_path = out / generator.GROUND_TRUTH_FILE
    if truth_path.is_file():
        truth = generator.read_ground_truth(truth_path)
        if truth.get("days") != days or truth.get("city") != city:
            raise BenchmarkError(
                f"{out} holds {truth.get('days')} days of {truth.get('city')}, not {days} "
                f"of {city}; use another --out"
            )
        print(f"  {city}: reusing {days} generated days in {out}")
        return out
    result = generator.generate(cities.get_city(city), out, days=days)
    print(f"  {city}: generated {result.total_rows} rows, {days} days, seed {result.seed}")
    return out


def write_config(
    path: Path,
    city: str,
    eval_days: int,
    train_steps: int | None = None,
    eval_steps: int | None = None,
    *,
    seed: int | None = None,
    source: Path | None = None,
) -> Path:
    """``source`` (default: the city's built-in config) with a time split of ``eval_days``
    and the given training steps and seed."""
    if source is None:
        text = resources.files(CONFIG_PACKAGE).joinpath(f"{city}.yaml").read_text()
    else:
        text = source.read_text()
    raw: dict[str, Any] = yaml.safe_load(text) or {}
    raw.setdefault("data", {})["split"] = {"kind": "time", "eval_days": eval_days}
    training = raw.setdefault("training", {})
    for key, value in (("train_steps", train_steps), ("eval_steps", eval_steps), ("seed", seed)):
        if value is not None:
            training[key] = value
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@contextlib.contextmanager
def _console_to(log: TextIO) -> Iterator[None]:
    """Sends stdout, stderr and the root logger's console output to ``log``, then back.

    Console handlers the run itself adds (``logging.basicConfig`` while stderr is
    redirected) point at ``log`` too; they are pointed back at stderr afterwards.
    """
    root = logging.getLogger()
    previous = {
        h: h.setStream(log)
        for h in root.handlers
        if type(h) is logging.StreamHandler and h.stream in (sys.stdout, sys.stderr)
    }
    try:
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        for handler in root.handlers:
            if type(handler) is logging.StreamHandler and handler.stream is log:
                handler.setStream(previous.get(handler) or sys.stderr)


def run_city_pipeline(
    name: str, city: str, output: Path, log_dir: Path, *cli_args: str
) -> PipelineRun:
    """``traffic-pipeline run`` with console output to ``log_dir/<name>.log``.

    A run whose model is not blessed (exit code 3) counts as finished: its Trainer model
    is scored like any other.
    """
    from deploy.runners.local.run_summary import summarize_run
    from deploy.runners.local.runner import LocalLayout
    from pipeline import pipeline as wiring

    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    argv = ["run", "--city", city, "--output", str(output), *cli_args]
    print(f"  {name}: traffic-pipeline {' '.join(argv)}", flush=True)
    start = time.monotonic()
    with open(log_path, "w") as log, _console_to(log):
        code = cli_main(argv)
    seconds = time.monotonic() - start
    if code not in (exit_codes.OK, exit_codes.NOT_BLESSED):  # unblessed models still score
        tail = log_path.read_text().splitlines()[-5:]
        raise BenchmarkError(
            f"{name}: pipeline failed (exit {code}), log {log_path}:\n" + "\n".join(tail)
        )
    layout = LocalLayout(output.resolve())
    store = metadata.open_store(layout.metadata_path)
    pipeline_name = wiring.pipeline_name(city)
    run_id = metadata.run_ids(store, pipeline_name)[-1]
    summary = summarize_run(store, pipeline_name, run_id)
    examples = [
        art.uri
        for node in metadata.run_executions(store, pipeline_name, run_id)
        if node.node_id == wiring.EXAMPLE_GEN
        for art in metadata.outputs_of(store, node.execution.id, "examples")
    ]
    if not examples or not summary.model_dir:
        raise BenchmarkError(
            f"{name}: run {run_id} in {layout.metadata_path} has no examples/model"
        )
    cached = sum(1 for _, state in summary.executions if state == "CACHED")
    print(
        f"  {name}: done in {seconds:.0f}s ({cached}/{len(summary.executions)} components "
        f"cached), blessed={summary.blessed}, log {log_path}",
        flush=True,
    )
    return PipelineRun(name, summary, examples[0], seconds, cached)


def pushed_model(layout: LocalLayout, city: str) -> str | None:
    """The newest pushed model dir of ``city`` under ``layout``, if any."""
    base = layout.serving_base(city)
    versions = [p for p in base.iterdir() if p.name.isdigit()] if base.is_dir() else []
    return str(max(versions, key=lambda p: int(p.name))) if versions else None


def donor_model(
    city: str, output: Path, log_dir: Path, data: Path, config: Path, workers: int
) -> str:
    """The donor's pushed model dir under ``output``; runs its pipeline first unless one is
    already pushed there. An unblessed run's Trainer model is still a valid donor."""
    from deploy.runners.local.runner import LocalLayout

    layout = LocalLayout(output.resolve())
    donor = pushed_model(layout, city)
    if donor:
        print(f"  {city}: reusing pushed model {donor}")
        return donor
    run = run_city_pipeline(
        city,
        city,
        layout.output_dir,
        log_dir,
        "--config",
        str(config),
        "--data",
        str(data),
        "--workers",
        str(workers),
    )
    donor = pushed_model(layout, city)
    if donor is None:
        print(f"  {city}: NOT blessed ({run.summary.blessing_reason}); using its Trainer model")
        donor = run.model_dir
    return donor
