"""Generator throughput: >= 1M London rows per output format, on one core.

Run: ``python -m benchmarks.bench_generator [--scale X] [--days N]``. Prints seconds
and rows/s per format, and each format's time relative to plain CSV measured in the
same run. The target is >= 100k rows/s (1M rows in 10 s).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one core, before numpy is imported

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from deploy.datasets.synthetic import cities, generator  # noqa: E402

TARGET_ROWS_PER_SECOND = 100_000


def main() -> None:
    """Generates the same London data once per format and prints the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--scale", type=float, default=2.75, help="~1.1M rows at 28 days")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    profile = cities.get_city("london")
    root = Path(tempfile.mkdtemp(prefix="bench_generator_"))
    results = {}
    try:
        for file_format in generator.FILE_FORMATS:
            started = time.perf_counter()
            summary = generator.generate(
                profile,
                root / file_format.replace(".", "_"),
                days=args.days,
                file_format=file_format,
                scale=args.scale,
            )
            seconds = time.perf_counter() - started
            size = sum(p.stat().st_size for p in summary.path.iterdir())
            results[file_format] = (summary.total_rows, seconds, size)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    csv_seconds = results["csv"][1]
    print(f"london, {args.days} days, scale {args.scale}, one core")
    print(f"{'format':8} {'rows':>10} {'seconds':>8} {'rows/s':>10} {'MB':>7} {'vs csv':>7}")
    for file_format, (rows, seconds, size) in results.items():
        print(
            f"{file_format:8} {rows:>10,} {seconds:>8.2f} {rows / seconds:>10,.0f} "
            f"{size / 1e6:>7.1f} {seconds / csv_seconds:>6.2f}x"
        )
    slowest = min(rows / seconds for rows, seconds, _ in results.values())
    verdict = "meets" if slowest >= TARGET_ROWS_PER_SECOND else "MISSES"
    print(
        f"slowest format: {slowest:,.0f} rows/s ({verdict} the {TARGET_ROWS_PER_SECOND:,}/s target)"
    )


if __name__ == "__main__":
    main()
