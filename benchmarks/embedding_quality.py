"""How well the learned day x hour embedding orders cells like the true traffic does.

Spearman rank correlation between the pairwise distances of the 168 embedding vectors
(``embedding.tsv`` beside a trained model) and the pairwise distances of the true
day-hour traffic profiles (log total volume plus vehicle-type shares). 1.0 = same
ordering of cell pairs, 0 = unrelated. The reference profile comes either from the
generator's ``ground_truth.json`` or, for any data (real counters included), from the
daily input files themselves: vehicles per local (day of week, hour) and type, averaged
over the days of that weekday in the data, read and validated exactly as ExampleGen
reads them (rejected rows do not count). Cells the data never covers are left out.
The profile is ``transforms.profile_geometry``'s, the one the Trainer ties the
embedding's geometry to (there computed from the train split's approach table).

    python -m benchmarks.embedding_quality --model-dir DIR --ground-truth FILE_OR_DIR
    python -m benchmarks.embedding_quality --model-dir DIR --data DIR --timezone ZONE
"""

from __future__ import annotations

import argparse

import numpy as np

from transforms import features
from transforms.export import read_embedding_tsv
from transforms.profile_geometry import pairwise_distances, traffic_profiles


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation (scipy if installed, else average-rank numpy)."""
    try:
        from scipy.stats import spearmanr
    except ImportError:  # pragma: no cover - scipy ships with the TFX stack

        def ranks(x: np.ndarray) -> np.ndarray:
            order = np.argsort(x, kind="mergesort")
            r = np.empty(len(x))
            r[order] = np.arange(len(x))
            _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
            sums = np.bincount(inverse, weights=r)
            return (sums / counts)[inverse]

        return float(np.corrcoef(ranks(a), ranks(b))[0, 1])
    return float(spearmanr(a, b).statistic)


# Half a vehicle per cell-hour: a cell with no vehicle in the data has a finite log volume.
PSEUDO_COUNT = 0.5


def profile_from_data(data_dir: str, timezone: str) -> tuple[np.ndarray, np.ndarray]:
    """(mean vehicles per hour [168, types], covered [168] bool) from the daily files.

    Rows follow ``features.all_day_hours()``; a cell is covered when the data holds at
    least one day of its weekday. Rows ExampleGen would reject are not counted.
    """
    from components.traffic_example_gen.inputs import list_daily_files
    from components.traffic_example_gen.parsing import parse_daily_file
    from components.traffic_example_gen.splits import TIME, SplitRule

    files = list_daily_files(data_dir)  # raises ValueError naming the dir if there are none
    counts = np.zeros((features.DAY_HOUR_CELLS, len(features.VEHICLE_TYPES)))
    days_per_weekday = np.zeros(features.DAYS_PER_WEEK)
    no_eval = SplitRule(kind=TIME, eval_from_yyyymmdd=99_999_999)
    for index, daily in enumerate(files):
        days_per_weekday[daily.day.weekday()] += 1
        for _, parsed in parse_daily_file(
            daily, file_index=index, timezone=timezone, split_rule=no_eval
        ):
            chunk = parsed.chunk
            cell = chunk.day_of_week.astype(np.int64) * features.HOURS_PER_DAY + chunk.hour
            np.add.at(counts, (cell, chunk.vehicle_type.astype(np.int64)), 1.0)
    days = np.repeat(days_per_weekday, features.HOURS_PER_DAY)
    covered = days > 0
    mean = (counts + PSEUDO_COUNT) / np.maximum(days, 1.0)[:, None]
    return mean, covered


def reference_profile(
    ground_truth: str | None = None,
    *,
    data_dir: str | None = None,
    timezone: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(expected vehicles [168, types], covered [168] bool) to compare embeddings with.

    The generator's ``ground_truth`` (every cell covered) or, with ``data_dir`` and its
    ``timezone``, the observed profile of the daily files (``profile_from_data``).
    """
    if data_dir is not None:
        if not timezone:
            raise ValueError("a data directory needs its IANA time zone (--timezone)")
        return profile_from_data(data_dir, timezone)
    if ground_truth is not None:
        from deploy.datasets.synthetic.generator import load_ground_truth

        expected = load_ground_truth(ground_truth)
        return expected, np.ones(len(expected), dtype=bool)
    raise ValueError("give the generator's ground truth or a data directory")


def profile_agreement(model_dir: str, expected: np.ndarray, covered: np.ndarray) -> float:
    """Spearman correlation of the model's embedding distances vs profile distances,
    over the covered cells of a ``reference_profile``."""
    vectors = read_embedding_tsv(model_dir)
    profiles = traffic_profiles(expected[covered])
    return spearman(pairwise_distances(vectors[covered]), pairwise_distances(profiles))


def embedding_quality(
    model_dir: str,
    ground_truth: str | None = None,
    *,
    data_dir: str | None = None,
    timezone: str | None = None,
) -> float:
    """Spearman correlation of embedding distances vs reference profile distances.

    The reference is ``ground_truth`` (the generator's truth) or, with ``data_dir`` and
    its ``timezone``, the observed profile of the daily files.
    """
    expected, covered = reference_profile(ground_truth, data_dir=data_dir, timezone=timezone)
    return profile_agreement(model_dir, expected, covered)


def main(argv: list[str] | None = None) -> None:
    """CLI: prints the Spearman correlation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, help="serving_model_dir with embedding.tsv")
    reference = parser.add_mutually_exclusive_group(required=True)
    reference.add_argument("--ground-truth", help="the generator's ground_truth.json or its dir")
    reference.add_argument("--data", help="daily input files: the profile is computed from them")
    parser.add_argument("--timezone", help="IANA zone of --data (local day and hour)")
    args = parser.parse_args(argv)
    if args.data and not args.timezone:
        parser.error("--data needs --timezone (e.g. Europe/London)")
    rho = embedding_quality(
        args.model_dir, args.ground_truth, data_dir=args.data, timezone=args.timezone
    )
    source = f"data {args.data}" if args.data else f"ground truth {args.ground_truth}"
    print(f"embedding_quality spearman_rho={rho:.4f} vs {source}")


if __name__ == "__main__":
    main()
