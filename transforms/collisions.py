"""Which of the 168 day x hour cells share a hash bucket for a given ``cross_buckets``.

Uses ``transforms.preprocessing.day_hour_bucket``, the very op of the TFT graph.

    python -m transforms.collisions --buckets 2058
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import tensorflow as tf

from transforms import features
from transforms.preprocessing import day_hour_bucket


@dataclass(frozen=True)
class CollisionReport:
    """Bucket usage of the 168 cells; ``groups`` lists cells that share a bucket."""

    cross_buckets: int
    buckets: tuple[int, ...]  # bucket of each cell, in features.all_day_hours() order
    distinct_buckets: int
    colliding_cells: int  # cells whose bucket holds at least one other cell
    groups: tuple[tuple[int, tuple[str, ...]], ...]  # (bucket, day-hour labels), sorted

    def format(self) -> str:
        """Human-readable summary, one colliding group per line."""
        lines = [
            f"cross_buckets={self.cross_buckets}: {features.DAY_HOUR_CELLS} cells in "
            f"{self.distinct_buckets} distinct buckets, {self.colliding_cells} cells share "
            f"a bucket ({len(self.groups)} groups)"
        ]
        lines += [f"  bucket {bucket}: {', '.join(labels)}" for bucket, labels in self.groups]
        return "\n".join(lines)


def cell_buckets(cross_buckets: int) -> list[int]:
    """Bucket id of each of the 168 cells, in ``features.all_day_hours()`` order."""
    if cross_buckets < 1:
        raise ValueError(f"cross_buckets must be >= 1, got {cross_buckets}")
    cells = features.all_day_hours()
    days = tf.constant([d for d, _ in cells], tf.int64)
    hours = tf.constant([h for _, h in cells], tf.int64)
    return [int(b) for b in day_hour_bucket(days, hours, cross_buckets).numpy()]


def collision_report(cross_buckets: int) -> CollisionReport:
    """Computes the bucket of every cell and the groups of cells sharing one."""
    buckets = cell_buckets(cross_buckets)
    by_bucket: dict[int, list[str]] = {}
    for (day, hour), bucket in zip(features.all_day_hours(), buckets, strict=True):
        by_bucket.setdefault(bucket, []).append(features.day_hour_label(day, hour))
    groups = tuple(
        (bucket, tuple(labels)) for bucket, labels in sorted(by_bucket.items()) if len(labels) > 1
    )
    return CollisionReport(
        cross_buckets=cross_buckets,
        buckets=tuple(buckets),
        distinct_buckets=len(by_bucket),
        colliding_cells=sum(len(labels) for _, labels in groups),
        groups=groups,
    )


def main(argv: list[str] | None = None) -> None:
    """CLI: prints the collision report for ``--buckets N``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buckets", type=int, default=features.DEFAULT_CROSS_BUCKETS)
    args = parser.parse_args(argv)
    print(collision_report(args.buckets).format())


if __name__ == "__main__":
    main()
