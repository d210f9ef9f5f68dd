"""How close to the truth can any estimator get on a data dir's train days?

``bench_accuracy`` scores the model against the generator's truth. This asks what the
train split allows at all, on the same busy cells: the expected NLL excess over the
truth (Poisson KL of a rate from the truth's, ``deploy.insights.accuracy.poisson_kl``)
of estimators that pool the approaches more or less strongly.

* the **tables** of ``bench_accuracy`` (historical average, same hour last week,
  day-class average: ``observed.baseline_tables``);
* **Poisson NMF, rank r**: every approach x type row of the train table is a
  non-negative mix of ``r`` weekly profiles (168 cells) learnt from the same table
  (``transforms.low_rank``): a data-driven low-rank estimator;
* **oracle profiles, rank r**: the same, but the ``r`` profiles are those of the
  truth itself (an exact NMF of the truth table) and only each row's mix is fitted on
  the train days. No data-driven estimator knows the generator's profiles, so this is
  a floor the train split's noise sets, not a method;
* the **model**, with ``--model-dir`` or ``--output``/``--city`` (asked as ``predict``
  asks it).

Each line gives the expected excess per busy cell (truth >= 5 vehicles/h) and as a
share of the truth's own mean NLL on the eval week's busy cells, the quantity the
per-approach target of docs/accuracy.md is stated in.

    python -m benchmarks.accuracy_floor --data OUT/data/london --output OUT --city london
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np

from benchmarks import bench_accuracy
from deploy.insights import accuracy, observed
from transforms.low_rank import ITERATIONS, from_rows, poisson_factors, poisson_nmf, table_rows

RANKS = (4, 6, 8, 10)


def train_table(obs: observed.Observations) -> tuple[np.ndarray, np.ndarray]:
    """(vehicles, observed hours), each (approaches * types, 168), of the train days, as
    the historical-average table sums them (``Observations.sums``)."""
    vehicles, hours = obs.sums(obs.train)
    if hours.ndim == 1:  # events: the hours each day-hour cell was observed, city-wide
        hours = np.broadcast_to(hours[None, :, None], vehicles.shape)
    return table_rows(vehicles), table_rows(hours)


def truth_profiles(truth_rows: np.ndarray, rank: int) -> tuple[np.ndarray, float]:
    """``rank`` profiles of an exact (every hour observed once) NMF of the truth's rows,
    and how well they fit it (KL per vehicle)."""
    ones = np.ones_like(truth_rows)
    weights, shapes = poisson_factors(truth_rows, ones, rank, iterations=2 * ITERATIONS)
    fit = accuracy.poisson_kl(weights @ shapes, truth_rows).sum() / truth_rows.sum()
    return shapes, float(fit)


@dataclass(frozen=True)
class Floor:
    name: str
    excess_busy: float  # expected NLL excess over the truth per busy eval cell
    excess_all: float


def floors(
    obs: observed.Observations,
    truth: np.ndarray,
    model: np.ndarray | None = None,
    ranks: tuple[int, ...] = RANKS,
) -> tuple[list[Floor], float]:
    """Every estimator's expected excess on the eval cells, and the truth's busy NLL."""
    types = truth.shape[2]
    vehicles, hours = train_table(obs)
    eval_cells = obs.eval.cells()
    true_rate = accuracy.lookup(truth, eval_cells)
    busy = accuracy.busy_mask(true_rate)

    def floor(name: str, table: np.ndarray) -> Floor:
        kl = accuracy.poisson_kl(accuracy.lookup(table, eval_cells), true_rate)
        return Floor(name, float(kl[busy].mean()), float(kl.mean()))

    out = [floor(name, table) for name, table in observed.baseline_tables(obs).items()]
    for rank in ranks:
        rates = poisson_nmf(vehicles, hours, rank)
        out.append(floor(f"Poisson NMF, rank {rank}", from_rows(rates, types)))
    truth_rows = table_rows(truth)
    for rank in ranks:
        profiles, fit = truth_profiles(truth_rows, rank)
        rates = poisson_nmf(vehicles, hours, rank, profiles=profiles)
        out.append(floor(f"oracle profiles, rank {rank} (fit {fit:.4f})", from_rows(rates, types)))
    if model is not None:
        out.append(floor("model", model))
    truth_nll = accuracy.poisson_nll(true_rate, eval_cells.count)[busy].mean()
    return out, float(truth_nll)


def main(argv: list[str] | None = None) -> int:
    """CLI: prints one line per estimator; exit code 2 on bad input."""
    from deploy.insights import model_files

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    bench_accuracy.add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        obs, model, truth = bench_accuracy.load(parser, args)
        if truth is None:
            raise ValueError(f"{args.data} has no per-approach truth (ground_truth.json)")
    except (ValueError, model_files.ModelError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    results, truth_nll = floors(obs, truth, model)
    print(f"{args.data}: truth's NLL per busy eval cell {truth_nll:.3f}")
    print("| estimator | expected excess / busy cell | of the truth's NLL | / cell |")
    print("|---|---:|---:|---:|")
    for f in results:
        share = f.excess_busy / truth_nll
        print(f"| {f.name} | {f.excess_busy:.4f} | {share:+.1%} | {f.excess_all:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
