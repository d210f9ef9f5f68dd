"""Warm start as days of data saved: how many cold-start days is a warm start worth?

1. The donor: ``--donor DIR`` (a pushed model), or the donor city's real pipeline
   (``traffic-pipeline run``) on ``--donor-data DIR`` or on ``--donor-days`` generated
   days; a model already pushed under ``OUT/donor`` is reused.
2. The target city's ``N`` daily files: ``--target-data DIR`` or ``max(days) +
   --eval-days`` generated days. Every arm trains on the FIRST ``D`` days and is scored
   on the SAME last ``--eval-days`` days. A run of ``D`` days reads all ``N`` days with a
   time split of ``N - D`` eval days, so train and eval days are contiguous: ExampleGen
   resolves each day's last headway against the next day present, and a gap between
   train and eval days would give those rows a headway across the gap.
3. For each ``D`` of ``--cold-days`` a cold run, and for each ``D`` of ``--warm-days``
   a ``frozen`` and a ``fine_tune`` warm run, all through the real pipeline with the
   same ``--train-steps`` and seed, per seed of ``--seeds``. The runs of one ``D`` share
   an output dir, so ExampleGen, StatisticsGen, SchemaGen and Transform run once per
   ``D`` (cached afterwards); the Trainer and Evaluator run for every arm. The Trainer's
   early stopping and the Evaluator see the run's whole eval split (days ``D+1..N``).
4. Scores every model (``serving_default``) with the training losses on the raw eval
   examples of the last ``--eval-days`` local days (the rows from their first local
   midnight on, checked identical for every ``D``), prints the curve, the headline (the
   cold curve, interpolated in log days, read at the warm 1-day loss) and the embedding's
   agreement with the target's day-hour profile: the generator's truth for generated
   data, the profile computed from ``--target-data`` otherwise. ``--plot`` writes a PNG.

    python -m benchmarks.warm_start_days [--out DIR] [--donor DIR | --donor-data DIR]
        [--target-data DIR] [--cold-days 1,2,4,7,14] [--warm-days 1,2] [--eval-days 14]
        [--train-steps 400] [--seeds 7] [--plot FILE.png]

Pipeline output of every run goes to ``OUT/logs/<run>.log``; figures to
``OUT/results.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

from benchmarks import warm_start_eval as scoring
from benchmarks.days_curve import days_worth, plot_curve
from benchmarks.warm_start_runs import (
    BenchmarkError,
    PipelineRun,
    donor_model,
    ensure_data,
    run_city_pipeline,
    write_config,
)
from deploy.datasets.synthetic import generator
from pipeline.config import ConfigError, load_config
from transforms import features, keras_mode

if TYPE_CHECKING:  # ExampleGen's modules import TFX; they load in the functions
    from components.traffic_example_gen.reading import DailyFile

COLD = "cold"
ARM_MODES = (COLD, *features.WARM_START_MODES)
DONOR_EVAL_DAYS = 7  # the donor's eval days; fewer when it has little data
HEADLINE_DAYS = 1  # the warm start whose worth is the headline


@dataclass(frozen=True, order=True)
class Arm:
    """One trained model: start mode, days of target training data, seed."""

    days: int
    mode: str
    seed: int

    @property
    def name(self) -> str:
        return f"{self.mode}-{self.days}d-seed{self.seed}"


def day_counts(text: str) -> tuple[int, ...]:
    """argparse type: comma-separated positive day counts, sorted and unique."""
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of integers"
        ) from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give day counts >= 1")
    return tuple(values)


def daily_files(data_dir: Path) -> list[DailyFile]:
    """The daily input files of ``data_dir`` in day order (ExampleGen's listing)."""
    from components.traffic_example_gen.inputs import list_daily_files

    return list_daily_files(str(data_dir))


def check_days(files: list[DailyFile], train_days: int, eval_days: int) -> None:
    """Fails unless the first ``train_days`` and the last ``eval_days`` files do not overlap."""
    if train_days + eval_days > len(files):
        where = Path(files[0].path).parent if files else "the target data"
        raise BenchmarkError(
            f"{where}: {len(files)} daily files, need {train_days} train + "
            f"{eval_days} eval days that do not overlap"
        )


def donor(args: argparse.Namespace, out: Path) -> str:
    """The donor's model dir: ``--donor``, else trained on its data (reused when pushed)."""
    if args.donor:
        if not Path(args.donor, features.EMBEDDING_SPEC_FILE).is_file():
            raise BenchmarkError(f"--donor {args.donor}: no {features.EMBEDDING_SPEC_FILE}")
        print(f"  donor: {args.donor}")
        return args.donor
    if args.donor_data:
        data = Path(args.donor_data).resolve()
    else:
        data = out / "data" / f"{args.donor_city}-{args.donor_days}d"
        ensure_data(args.donor_city, data, args.donor_days)
    n_days = len(daily_files(data))
    config = write_config(
        out / "configs" / f"{args.donor_city}.yaml",
        args.donor_city,
        eval_days=min(DONOR_EVAL_DAYS, max(1, n_days // 4)),
        train_steps=args.donor_train_steps,
        source=Path(args.donor_config) if args.donor_config else None,
    )
    return donor_model(args.donor_city, out / "donor", out / "logs", data, config, args.workers)


def target_data(args: argparse.Namespace, out: Path, max_days: int) -> Path:
    """``--target-data``, or generated days of the target city (``max_days`` + eval)."""
    if args.target_data:
        return Path(args.target_data).resolve()
    total = max_days + args.eval_days
    return ensure_data(args.target_city, out / "data" / f"{args.target_city}-{total}d", total)


def arms(args: argparse.Namespace) -> list[Arm]:
    """Every arm, cold and warm, for every seed (runs of one ``D`` side by side)."""
    planned = [Arm(d, COLD, s) for d in args.cold_days for s in args.seeds]
    planned += [
        Arm(d, m, s) for d in args.warm_days for m in features.WARM_START_MODES for s in args.seeds
    ]
    return sorted(planned, key=lambda a: (a.days, a.seed, ARM_MODES.index(a.mode)))


def run_arms(
    args: argparse.Namespace, out: Path, donor_dir: str, data: Path
) -> dict[Arm, PipelineRun]:
    """One pipeline run per arm; the runs of one ``D`` share an output dir (and cache)."""
    files = daily_files(data)
    runs: dict[Arm, PipelineRun] = {}
    for arm in arms(args):
        config = write_config(
            out / "configs" / f"{args.target_city}-{arm.days}d-seed{arm.seed}.yaml",
            args.target_city,
            len(files) - arm.days,  # train: the first arm.days days; eval: all after them
            args.train_steps,
            args.eval_steps,
            seed=arm.seed,
            source=Path(args.target_config) if args.target_config else None,
        )
        warm = (
            []
            if arm.mode == COLD
            else ["--warm-start-from", donor_dir, "--warm-start-mode", arm.mode]
        )
        runs[arm] = run_city_pipeline(
            f"{args.target_city}-{arm.name}",
            args.target_city,
            (out / f"{args.target_city}-{arm.days}d").resolve(),
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


def common_eval_rows(
    runs: dict[Arm, PipelineRun], first_day: datetime.date, timezone: str
) -> tuple[scoring.SplitRecords, str]:
    """The eval rows from local midnight of ``first_day`` on, and their fingerprint;
    fails unless they are exactly the same examples in every run's eval split."""
    midnight = datetime.datetime.combine(first_day, datetime.time(), tzinfo=ZoneInfo(timezone))
    cutoff = int(midnight.timestamp())
    uris = sorted({run.examples_uri for run in runs.values()})
    common, expected = None, ""
    for uri in uris:
        split = scoring.read_split(uri, "eval")
        rows = split.select(split.timestamp_utc >= cutoff)
        if not len(rows):
            raise BenchmarkError(f"eval split of {uri} has no rows from {first_day} on")
        if common is None:
            common, expected = rows, rows.fingerprint()
        elif rows.fingerprint() != expected:
            raise BenchmarkError(
                f"eval rows from {first_day} on differ between {uris[0]} and {uri}"
            )
    assert common is not None  # runs is never empty
    return common, expected


def mean_curve(losses: dict[Arm, float], mode: str) -> dict[int, float]:
    """Mean eval loss over seeds per day count, for one start mode."""
    days = sorted({a.days for a in losses if a.mode == mode})
    return {
        d: float(np.mean([v for a, v in losses.items() if a.mode == mode and a.days == d]))
        for d in days
    }


def print_table(
    args: argparse.Namespace,
    scores: dict[Arm, scoring.ExampleLosses],
    train_rows: dict[int, int],
    rho: dict[Arm, float],
    runs: dict[Arm, PipelineRun],
) -> None:
    """Per arm: train rows, loss per seed and mean, paired gain over cold, embedding rho."""
    seeds = list(args.seeds)
    print("\nEval loss per example (headway NLL + vehicle-type cross-entropy; lower is better)")
    header = f"  {'start':<10}{'days':>5}{'train rows':>12}"
    header += "".join(f"{'seed ' + str(s):>12}" for s in seeds)
    header += f"{'mean':>10}{'vs cold, same days (paired, 2 SE)':>38}{'emb. rho':>10}{'run s':>8}"
    print(header)
    groups = sorted({(a.days, a.mode) for a in scores}, key=lambda g: (ARM_MODES.index(g[1]), g[0]))
    for days, mode in groups:
        group = [Arm(days, mode, s) for s in seeds]
        totals = [float(scores[a].total.mean()) for a in group]
        row = f"  {mode:<10}{days:>5}{train_rows[days]:>12,}"
        row += "".join(f"{t:>12.4f}" for t in totals) + f"{np.mean(totals):>10.4f}"
        cold = [Arm(days, COLD, s) for s in seeds]
        if mode != COLD and all(c in scores for c in cold):
            diff = np.mean(
                [scores[c].total - scores[a].total for c, a in zip(cold, group, strict=True)],
                axis=0,
            )
            se = diff.std(ddof=1) / np.sqrt(len(diff))
            row += f"{f'{diff.mean():+.4f} +- {2 * se:.4f} better':>38}"
        else:
            row += f"{'':>38}"
        row += f"{np.mean([rho[a] for a in group]):>10.3f}"
        row += f"{np.mean([runs[a].seconds for a in group]):>8.0f}"
        print(row)


def headline(losses: dict[Arm, float], seeds: tuple[int, ...]) -> dict[str, dict[int, str]]:
    """Prints what each warm start (each of its day counts) is worth in cold days."""
    cold = mean_curve(losses, COLD)
    worth: dict[str, dict[int, str]] = {}
    print("\nWarm start as days of cold-start data (cold curve interpolated in log days)")
    for mode in features.WARM_START_MODES:
        for days, loss in mean_curve(losses, mode).items():
            text = days_worth(cold, loss).describe()
            worth.setdefault(mode, {})[days] = text
            line = f"  {mode} on {days} day(s): loss {loss:.4f} = {text} days of cold start"
            if len(seeds) > 1:
                per_seed = [
                    days_worth(mean_curve(_seed(losses, s), COLD), losses[Arm(days, mode, s)])
                    for s in seeds
                ]
                line += " (per seed: " + ", ".join(w.describe() for w in per_seed) + ")"
            print(line)
    for mode in features.WARM_START_MODES:
        if HEADLINE_DAYS in worth.get(mode, {}):
            print(
                f"HEADLINE: a {mode} warm start on {HEADLINE_DAYS} day is worth "
                f"{worth[mode][HEADLINE_DAYS]} days of cold-start data"
            )
    return worth


def _seed(losses: dict[Arm, float], seed: int) -> dict[Arm, float]:
    return {a: v for a, v in losses.items() if a.seed == seed}


def embedding_reference(
    args: argparse.Namespace, data: Path, timezone: str
) -> tuple[np.ndarray, np.ndarray, str]:
    """The target's day-hour profile: from ``--target-data`` itself, else the generator's truth."""
    from benchmarks.embedding_quality import reference_profile

    if args.target_data:
        expected, covered = reference_profile(data_dir=str(data), timezone=timezone)
        return expected, covered, f"profile computed from {data} ({timezone})"
    expected, covered = reference_profile(str(data / generator.GROUND_TRUTH_FILE))
    return expected, covered, f"generator's truth {data / generator.GROUND_TRUTH_FILE}"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="output/warm_start_days", help="work/output dir")
    donor_source = parser.add_mutually_exclusive_group()
    donor_source.add_argument("--donor", help="a pushed donor model dir (else trained here)")
    donor_source.add_argument("--donor-data", help="donor daily files (default: generated)")
    parser.add_argument("--donor-city", default="london")
    parser.add_argument("--donor-config", help="donor config YAML (default: built-in)")
    parser.add_argument("--donor-days", type=int, default=28, help="generated donor days")
    parser.add_argument("--donor-train-steps", type=int, help="default: the donor's config")
    parser.add_argument("--target-data", help="target daily files (default: generated)")
    parser.add_argument("--target-city", default="frankfurt")
    parser.add_argument("--target-config", help="target config YAML (default: built-in)")
    parser.add_argument("--cold-days", type=day_counts, default=(1, 2, 4, 7, 14))
    parser.add_argument("--warm-days", type=day_counts, default=(1, 2))
    parser.add_argument("--eval-days", type=int, default=14, help="last days, eval for all")
    parser.add_argument("--train-steps", type=int, default=400, help="every target arm")
    parser.add_argument("--eval-steps", type=int, default=50, help="validation batches")
    parser.add_argument("--seeds", type=day_counts, default=(7,), help="e.g. 7,8")
    parser.add_argument("--plot", help="write the curve as a PNG here")
    parser.add_argument("--workers", type=int, default=1, help="Beam DirectRunner workers")
    args = parser.parse_args(argv)
    for name in ("donor_days", "eval_days", "train_steps", "eval_steps", "workers"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if HEADLINE_DAYS not in args.cold_days and args.warm_days:
        print(f"note: --cold-days without {HEADLINE_DAYS} reads the curve from its fewest days")
    return args


def main(argv: list[str] | None = None) -> int:
    """Runs the benchmark; prints the curve and the headline. Exit code 1 on a failed step."""
    keras_mode.use_legacy_keras()
    # google-cloud libraries warn about Python 3.10 on import; that is our pinned stack.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"google\..*")
    args = parse_args(argv)
    out = Path(args.out).resolve()
    print(f"warm start as days of data, in {out}")
    start = time.monotonic()
    try:
        max_days = max(args.cold_days + args.warm_days)
        data = target_data(args, out, max_days)
        files = daily_files(data)
        check_days(files, max_days, args.eval_days)  # before any training
        timezone = load_config(args.target_city, args.target_config).timezone
        donor_dir = donor(args, out)
        runs = run_arms(args, out, donor_dir, data)
        eval_files = files[-args.eval_days :]
        evaluation, fingerprint = common_eval_rows(runs, eval_files[0].day, timezone)
        by_days = {a.days: r.examples_uri for a, r in runs.items()}
        train_rows = {d: len(scoring.read_split(uri, "train")) for d, uri in by_days.items()}
        expected, covered, reference = embedding_reference(args, data, timezone)
    except (BenchmarkError, ConfigError, generator.GenerationError, OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    from benchmarks.embedding_quality import profile_agreement

    print(
        f"\n{args.target_city}: eval on {len(evaluation):,} rows of the last {args.eval_days} "
        f"days ({eval_files[0].day} .. {eval_files[-1].day}), identical for all "
        f"{len(runs)} arms (sha256 {fingerprint[:16]}); {args.train_steps} train steps, "
        f"seeds {','.join(map(str, args.seeds))}; donor {donor_dir}"
    )
    scores = {a: scoring.score_saved_model(r.model_dir, evaluation) for a, r in runs.items()}
    rho = {a: profile_agreement(r.model_dir, expected, covered) for a, r in runs.items()}
    print_table(args, scores, train_rows, rho, runs)
    sem = max(float(s.total.std(ddof=1) / np.sqrt(len(evaluation))) for s in scores.values())
    print(
        f"  one arm's mean loss has a row-sampling standard error of at most {sem:.4f}; arms "
        "share the rows, so differences are paired; emb. rho: Spearman agreement with the "
        f"{reference}"
    )
    losses = {a: float(s.total.mean()) for a, s in scores.items()}
    worth = headline(losses, args.seeds)
    if args.plot:
        seed_points = {
            m: {d: [v for a, v in losses.items() if a.mode == m and a.days == d] for d in ds}
            for m in ARM_MODES
            if (ds := sorted({a.days for a in losses if a.mode == m}))
        }
        path = plot_curve(
            Path(args.plot),
            mean_curve(losses, COLD),
            {m: mean_curve(losses, m) for m in features.WARM_START_MODES if m in seed_points},
            f"{args.target_city}, warm-started from {args.donor_city}: eval loss on "
            f"{len(evaluation):,} rows of {args.eval_days} later days; "
            f"{args.train_steps} steps, seeds {','.join(map(str, args.seeds))}",
            seed_points if len(args.seeds) > 1 else None,
        )
        print(f"plot: {path}")
    seconds = time.monotonic() - start
    print(f"\nwhole benchmark {seconds:.0f}s ({len(runs)} target runs)")
    results = {
        "eval_rows": len(evaluation),
        "eval_fingerprint": fingerprint,
        "train_steps": args.train_steps,
        "seeds": list(args.seeds),
        "donor": donor_dir,
        "embedding_reference": reference,
        "arms": [
            {
                "mode": a.mode,
                "days": a.days,
                "seed": a.seed,
                "train_rows": train_rows[a.days],
                "loss": losses[a],
                "headway_nll": float(scores[a].headway_nll.mean()),
                "type_xent": float(scores[a].type_xent.mean()),
                "embedding_rho": rho[a],
                "eval_examples_uri": runs[a].examples_uri,
                "seconds": runs[a].seconds,
            }
            for a in sorted(runs)
        ],
        "worth_in_cold_days": worth,
        "seconds": seconds,
    }
    (out / "results.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
