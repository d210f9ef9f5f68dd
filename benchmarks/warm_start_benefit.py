"""Does London's day x hour embedding help Frankfurt when Frankfurt has little data?

1. Generates London (``--london-days``, the city's seed) and runs London's real pipeline
   (``traffic-pipeline run``) into ``OUT/london``; a model already pushed there is reused.
2. Generates Frankfurt (``--frankfurt-days`` + ``--eval-days`` days from Monday
   2026-03-16, the city's seed). One config with a time split puts the first
   ``--frankfurt-days`` local days into train and the last ``--eval-days`` into eval.
3. Runs Frankfurt's real pipeline three times, each into its own output dir (own MLMD
   store, so nothing is shared through the cache): cold start, warm start ``frozen`` and
   ``fine_tune`` from London's pushed model; same data, config, steps and seed.
4. Scores each Frankfurt SavedModel (``serving_default``) on the raw eval examples of the
   ExampleGen artifact (checked to be the same rows for all three runs) with the
   training losses: headway exponential NLL and vehicle-type cross-entropy. Prints them
   overall, for eval days whose weekday is / is not in the train days, and per weekday,
   with each warm variant's improvement over cold; then the TFMA overall metrics of
   each run and the embedding's Spearman agreement with Frankfurt's true profiles.

    python -m benchmarks.warm_start_benefit [--out DIR] [--frankfurt-days 3] \
        [--eval-days 7] [--london-days 28] [--train-steps 300] [--workers 1]

Pipeline output of every run goes to ``OUT/logs/<run>.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import sys
import time
import warnings
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import numpy as np
import yaml

from benchmarks import warm_start_eval as scoring
from deploy import metadata
from deploy.cli import main as cli_main
from deploy.synthetic import cities, generator
from pipeline.config import CONFIG_PACKAGE
from transforms import features, keras_mode

if TYPE_CHECKING:  # modules that import TensorFlow load in the functions, after main()
    from deploy.local_runner import LocalLayout
    from deploy.run_summary import RunSummary

DONOR_CITY = "london"
TARGET_CITY = "frankfurt"
VARIANTS = ("cold", "frozen", "fine_tune")  # "" | warm_start mode
LONDON_EVAL_DAYS = 7  # London's built-in split; fewer when --london-days is small
SUMMARY_LOSSES = ("headway_nll", "type_xent", "total")


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
) -> Path:
    """The city's built-in config with a time split of ``eval_days`` (and the given steps)."""
    raw = yaml.safe_load(resources.files(CONFIG_PACKAGE).joinpath(f"{city}.yaml").read_text())
    raw.setdefault("data", {})["split"] = {"kind": "time", "eval_days": eval_days}
    training = raw.setdefault("training", {})
    if train_steps:
        training["train_steps"] = train_steps
    if eval_steps:
        training["eval_steps"] = eval_steps
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
    """``traffic-pipeline run`` with console output to ``log_dir/<name>.log``."""
    from deploy.local_runner import LocalLayout
    from deploy.run_summary import summarize_run
    from pipeline import pipeline as wiring

    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    argv = ["run", "--city", city, "--output", str(output), *cli_args]
    print(f"  {name}: traffic-pipeline {' '.join(argv)}", flush=True)
    start = time.monotonic()
    with open(log_path, "w") as log, _console_to(log):
        code = cli_main(argv)
    seconds = time.monotonic() - start
    if code != 0:
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


def london_donor(args: argparse.Namespace, out: Path) -> str:
    """London's pushed model dir; trains London first unless one is already pushed."""
    from deploy.local_runner import LocalLayout

    layout = LocalLayout((out / DONOR_CITY).resolve())
    donor = pushed_model(layout, DONOR_CITY)
    if donor:
        print(f"  {DONOR_CITY}: reusing pushed model {donor}")
        return donor
    data = ensure_data(
        DONOR_CITY, out / "data" / f"{DONOR_CITY}-{args.london_days}d", args.london_days
    )
    config = write_config(
        out / "configs" / f"{DONOR_CITY}.yaml",
        DONOR_CITY,
        eval_days=min(LONDON_EVAL_DAYS, max(1, args.london_days // 4)),
        train_steps=args.london_train_steps,
    )
    run = run_city_pipeline(
        DONOR_CITY,
        DONOR_CITY,
        layout.output_dir,
        out / "logs",
        "--config",
        str(config),
        "--data",
        str(data),
        "--workers",
        str(args.workers),
    )
    donor = pushed_model(layout, DONOR_CITY)
    if donor is None:  # not blessed: the Trainer's model is still a valid donor
        print(
            f"  {DONOR_CITY}: NOT blessed ({run.summary.blessing_reason}); using its Trainer model"
        )
        donor = run.model_dir
    return donor


def train_frankfurt(args: argparse.Namespace, out: Path, donor: str) -> dict[str, PipelineRun]:
    """The three Frankfurt runs, each in its own output dir."""
    total_days = args.frankfurt_days + args.eval_days
    data = ensure_data(TARGET_CITY, out / "data" / f"{TARGET_CITY}-{total_days}d", total_days)
    config = write_config(
        out / "configs" / f"{TARGET_CITY}.yaml",
        TARGET_CITY,
        args.eval_days,
        args.train_steps,
        args.eval_steps,
    )
    runs = {}
    for variant in VARIANTS:
        warm = (
            [] if variant == "cold" else ["--warm-start-from", donor, "--warm-start-mode", variant]
        )
        runs[variant] = run_city_pipeline(
            f"{TARGET_CITY}-{variant}",
            TARGET_CITY,
            (out / f"{TARGET_CITY}-{variant}").resolve(),
            out / "logs",
            "--config",
            str(config),
            "--data",
            str(data),
            "--workers",
            str(args.workers),
            *warm,
        )
    return runs


def check_same_eval_rows(runs: dict[str, PipelineRun], reference: scoring.SplitRecords) -> None:
    """Fails unless every run's eval split holds exactly the reference's examples."""
    expected = reference.fingerprint()
    for variant, run in runs.items():
        got = scoring.read_split(run.examples_uri, "eval").fingerprint()
        if got != expected:
            raise BenchmarkError(
                f"{variant}: eval split {run.examples_uri} differs from {reference.files[0]}"
            )


def _losses(losses: scoring.ExampleLosses) -> dict[str, np.ndarray]:
    return {"headway_nll": losses.headway_nll, "type_xent": losses.type_xent, "total": losses.total}


def _gain(cold: float, warm: float) -> str:
    return f"{100.0 * (cold - warm) / abs(cold):+.2f}%"


def print_loss_tables(
    scores: dict[str, scoring.ExampleLosses], evaluation: scoring.SplitRecords, train_days: set[int]
) -> None:
    """Losses overall / by seen-unseen weekday / per weekday; warm gains over cold."""
    seen = np.isin(evaluation.day_of_week, sorted(train_days))
    days = ", ".join(features.DAY_NAMES[d] for d in sorted(train_days))
    slices = {
        "overall": np.ones(len(evaluation), bool),
        f"weekday in train ({days})": seen,
        "weekday NOT in train": ~seen,
    }
    names = list(scores)
    print(f"\nEval losses (mean per example; train weekdays: {days}; lower is better)")
    print(
        f"  {'slice':<34}{'loss':<13}{'rows':>7}"
        + "".join(f"{n:>11}" for n in names)
        + "".join(f"{'gain ' + w:>17}" for w in ("frozen", "fine_tune"))
    )
    slices = {name: mask for name, mask in slices.items() if mask.any()}
    for slice_name, mask in slices.items():
        for loss in SUMMARY_LOSSES:
            means = {n: float(_losses(scores[n])[loss][mask].mean()) for n in names}
            row = f"  {slice_name:<34}{loss:<13}{int(mask.sum()):>7}"
            row += "".join(f"{means[n]:>11.4f}" for n in names)
            row += "".join(f"{_gain(means['cold'], means[w]):>17}" for w in ("frozen", "fine_tune"))
            print(row)
    print("\n  paired total-loss difference cold - warm (mean +- 2 standard errors, per row)")
    for slice_name, mask in slices.items():
        cells = []
        for warm in ("frozen", "fine_tune"):
            diff = (scores["cold"].total - scores[warm].total)[mask]
            se = diff.std(ddof=1) / np.sqrt(len(diff))
            cells.append(f"{warm} {diff.mean():+.4f} +- {2 * se:.4f}")
        print(f"  {slice_name:<34}" + "   ".join(cells))
    print("\n  total loss per eval weekday")
    print(f"  {'day':<8}{'in train':<10}{'rows':>7}" + "".join(f"{n:>11}" for n in names))
    for day in range(features.DAYS_PER_WEEK):
        mask = evaluation.day_of_week == day
        if mask.any():
            row = f"  {features.DAY_NAMES[day]:<8}{'yes' if day in train_days else 'no':<10}"
            row += f"{int(mask.sum()):>7}" + "".join(
                f"{scores[n].total[mask].mean():>11.4f}" for n in names
            )
            print(row)


def print_tfma_overall(runs: dict[str, PipelineRun]) -> None:
    """The Evaluator's overall slice of each run (TFMA, on the same eval split)."""
    from pipeline.evaluation import METRIC_OUTPUTS

    print("\nTFMA overall metrics (Evaluator output)")
    print(f"  {'metric':<56}" + "".join(f"{v:>11}" for v in runs))
    overall = {v: dict(r.summary.metrics_by_slice).get("overall", {}) for v, r in runs.items()}
    for metric, (output, *_) in METRIC_OUTPUTS.items():
        key = f"{output}/{metric}"
        values = [overall[v].get(key) for v in runs]
        print(
            f"  {key:<56}"
            + "".join(f"{x:>11.4f}" if x is not None else f"{'-':>11}" for x in values)
        )
    print(
        f"  {'blessed (config gate)':<56}"
        + "".join(f"{r.summary.blessed!s:>11}" for r in runs.values())
    )


def print_embedding_quality(runs: dict[str, PipelineRun], donor: str, truth: Path) -> None:
    """Spearman of embedding distances vs Frankfurt's true day-hour profile distances."""
    from benchmarks.embedding_quality import embedding_quality

    print("\nEmbedding vs Frankfurt's true traffic profiles (Spearman of pairwise distances)")
    print(f"  {'London donor':<14}{embedding_quality(donor, str(truth)):.4f}")
    for variant, run in runs.items():
        print(f"  {variant:<14}{embedding_quality(run.model_dir, str(truth)):.4f}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output/warm_start_benefit", help="work/output dir")
    parser.add_argument("--frankfurt-days", type=int, default=3, help="Frankfurt train days")
    parser.add_argument("--eval-days", type=int, default=7, help="Frankfurt eval days (after)")
    parser.add_argument("--london-days", type=int, default=28)
    parser.add_argument("--train-steps", type=int, default=300, help="Frankfurt train steps")
    parser.add_argument("--eval-steps", type=int, default=50, help="Frankfurt validation steps")
    parser.add_argument("--london-train-steps", type=int, help="default: London's config")
    parser.add_argument("--workers", type=int, default=1, help="Beam DirectRunner workers")
    args = parser.parse_args(argv)
    for name in (
        "frankfurt_days",
        "eval_days",
        "london_days",
        "train_steps",
        "eval_steps",
        "workers",
    ):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; prints the tables. Exit code 1 on a failed step."""
    keras_mode.use_legacy_keras()
    # google-cloud libraries warn about Python 3.10 on import; that is our pinned stack.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")
    args = parse_args(argv)
    out = Path(args.out).resolve()
    print(f"warm-start benefit benchmark in {out}")
    start = time.monotonic()
    try:
        donor = london_donor(args, out)
        runs = train_frankfurt(args, out, donor)
        cold = runs["cold"]
        evaluation = scoring.read_split(cold.examples_uri, "eval")
        train = scoring.read_split(cold.examples_uri, "train")
        check_same_eval_rows({v: r for v, r in runs.items() if v != "cold"}, evaluation)
    except (BenchmarkError, generator.GenerationError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    train_days = {int(d) for d in np.unique(train.day_of_week)}
    print(
        f"\nFrankfurt: {len(train)} train rows ({args.frankfurt_days} days), {len(evaluation)} "
        f"eval rows ({args.eval_days} days, identical in all 3 runs); "
        f"{args.train_steps} train steps each; donor {donor}"
    )
    scores = {"constant": scoring.score_constant(train, evaluation)}
    scores.update({v: scoring.score_saved_model(r.model_dir, evaluation) for v, r in runs.items()})
    print_loss_tables({v: scores[v] for v in VARIANTS}, evaluation, train_days)
    reference = {loss: float(_losses(scores["constant"])[loss].mean()) for loss in SUMMARY_LOSSES}
    print(
        "  reference, constant predictor (train mean headway and type mix): "
        + ", ".join(f"{k} {v:.4f}" for k, v in reference.items())
    )
    print_tfma_overall(runs)
    print_embedding_quality(
        runs, donor, Path(out / "data" / f"{TARGET_CITY}-{args.frankfurt_days + args.eval_days}d")
    )
    print(
        "\nrun times: "
        + ", ".join(f"{r.name} {r.seconds:.0f}s" for r in runs.values())
        + f"; whole benchmark {time.monotonic() - start:.0f}s"
    )
    with open(out / "results.json", "w") as f:
        json.dump(
            {
                v: {loss: float(_losses(s)[loss].mean()) for loss in SUMMARY_LOSSES}
                for v, s in scores.items()
            },
            f,
            indent=2,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
