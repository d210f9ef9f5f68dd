"""How well the learned day x hour embedding orders cells like the true traffic does.

Spearman rank correlation between the pairwise distances of the 168 embedding vectors
(``embedding.tsv`` beside a trained model) and the pairwise distances of the true
day-hour traffic profiles (log total volume plus vehicle-type shares) from the
generator's ``ground_truth.json``. 1.0 = same ordering of cell pairs, 0 = unrelated.

    python -m benchmarks.embedding_quality --model-dir DIR --ground-truth FILE_OR_DIR
"""

from __future__ import annotations

import argparse

import numpy as np

from transforms.export import read_embedding_tsv


def traffic_profiles(expected_counts: np.ndarray) -> np.ndarray:
    """[168, 1 + types]: log total vehicles per hour (standardised) and type shares."""
    counts = np.asarray(expected_counts, dtype=np.float64)
    total = counts.sum(axis=1)
    log_total = np.log(np.maximum(total, 1e-9))
    log_total = (log_total - log_total.mean()) / (log_total.std() or 1.0)
    shares = counts / np.maximum(total, 1e-12)[:, None]
    return np.column_stack([log_total, shares])


def pairwise_distances(points: np.ndarray) -> np.ndarray:
    """Condensed Euclidean distances of all pairs (i < j)."""
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt((diff**2).sum(axis=-1))
    return dist[np.triu_indices(len(points), k=1)]


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


def embedding_quality(model_dir: str, ground_truth: str) -> float:
    """Spearman correlation of embedding distances vs true profile distances."""
    from deploy.synthetic.generator import load_ground_truth

    vectors = read_embedding_tsv(model_dir)
    profiles = traffic_profiles(load_ground_truth(ground_truth))
    return spearman(pairwise_distances(vectors), pairwise_distances(profiles))


def main(argv: list[str] | None = None) -> None:
    """CLI: prints the Spearman correlation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, help="serving_model_dir with embedding.tsv")
    parser.add_argument("--ground-truth", required=True, help="ground_truth.json or its dir")
    args = parser.parse_args(argv)
    rho = embedding_quality(args.model_dir, args.ground_truth)
    print(f"embedding_quality spearman_rho={rho:.4f} (pairs={168 * 167 // 2})")


if __name__ == "__main__":
    main()
