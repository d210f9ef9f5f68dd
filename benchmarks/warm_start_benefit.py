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
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from benchmarks import warm_start_eval as scoring
from benchmarks.warm_start_runs import (
    BenchmarkError,
    PipelineRun,
    donor_model,
    ensure_data,
    pushed_model,
    run_city_pipeline,
    write_config,
)
from deploy.datasets.synthetic import generator
from transforms import features, keras_mode

DONOR_CITY = "london"
TARGET_CITY = "frankfurt"
VARIANTS = ("cold", "frozen", "fine_tune")  # "" | warm_start mode
LONDON_EVAL_DAYS = 7  # London's built-in split; fewer when --london-days is small
SUMMARY_LOSSES = ("headway_nll", "type_xent", "total")


def london_donor(args: argparse.Namespace, out: Path) -> str:
    """London's pushed model dir; trains London first unless one is already pushed."""
    from deploy.runners.local.runner import LocalLayout

    data = out / "data" / f"{DONOR_CITY}-{args.london_days}d"
    if pushed_model(LocalLayout((out / DONOR_CITY).resolve()), DONOR_CITY) is None:
        ensure_data(DONOR_CITY, data, args.london_days)
    config = write_config(
        out / "configs" / f"{DONOR_CITY}.yaml",
        DONOR_CITY,
        eval_days=min(LONDON_EVAL_DAYS, max(1, args.london_days // 4)),
        train_steps=args.london_train_steps,
    )
    return donor_model(DONOR_CITY, out / DONOR_CITY, out / "logs", data, config, args.workers)


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
