"""Benchmark: a nightly ExampleGen + StatisticsGen with the day cache vs a full run.

Generates ``--days`` + 1 days of London (``deploy.datasets.synthetic``; the default
scale gives about 1M rows per 28 days) and runs the executor, each run in a fresh
process, on a rolling window of ``--days`` days:

1. ``cold``: the window ending the day before the newest, with an empty day cache
   (every day parsed, encoded and written to the cache);
2. ``full``: the window ending at the newest day, without a cache (what every night
   cost before the day cache);
3. ``nightly``: the same window with the cache of run 1: one new day parsed, the
   others reused.

Each run's Examples then go through FastStatisticsGen: with the accumulator cache for
``cold`` (filling it) and ``nightly``, without for ``full``. It prints each run's
ExampleGen and StatisticsGen times (the executors' ``Do``; process start-up, imports and
the executors' construction are left out, as a pipeline pays them once), days ingested /
reused, statistics files reused / read, and the ratios nightly / full and cold / full
measured in this run; and checks that the nightly and the full run wrote the same number
of examples per split.

    python -m benchmarks.bench_day_cache [--days 28 --scale 2.5] [--multi-processing]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import multiprocessing
import os
import tempfile
import time

from transforms import keras_mode

TIMEZONE = "Europe/London"


def _beam_args(multi_processing: bool) -> list[str]:
    if multi_processing:
        return ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    return ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def _run(input_dir: str, out_dir: str, as_of: str, window: int, cache: str, beam_args) -> dict:
    import apache_beam as beam
    from tfx.types import standard_artifacts

    from components.fast_statistics_gen import executor as fast_executor
    from components.traffic_example_gen import accounting, executor, properties
    from components.traffic_example_gen.component import TrafficRejects

    examples = standard_artifacts.Examples()
    examples.uri = os.path.join(out_dir, "examples")
    rejects = TrafficRejects()
    rejects.uri = os.path.join(out_dir, "rejects")
    context = executor.Executor.Context(
        make_beam_pipeline_fn=lambda: beam.Pipeline(argv=beam_args),
        tmp_dir=os.path.join(out_dir, "tmp"),
        unique_id="1",
    )
    params = {
        executor.INPUT_BASE_KEY: input_dir,
        executor.TIMEZONE_KEY: TIMEZONE,
        executor.SPLIT_CONFIG_KEY: json.dumps({"kind": "time", "eval_days": 7}),
        executor.WINDOW_DAYS_KEY: window,
        executor.AS_OF_KEY: as_of,
    }
    if cache:
        params[executor.DAY_CACHE_KEY] = cache
    example_gen = executor.Executor(context)
    start = time.time()
    example_gen.Do({}, {executor.EXAMPLES_KEY: [examples], executor.REJECTS_KEY: [rejects]}, params)
    seconds = time.time() - start
    statistics, stats_seconds = _statistics(examples, out_dir, cache, beam_args)
    value = examples.get_int_custom_property
    return {
        "seconds": seconds,
        "stats_seconds": stats_seconds,
        "stats_reused": statistics.get(fast_executor.FILES_REUSED_PROPERTY, 0),
        "stats_read": statistics.get(fast_executor.FILES_COMPUTED_PROPERTY, 0),
        "rows": value(accounting.ROWS_READ),
        "train": value(accounting.EXAMPLES_TRAIN),
        "eval": value(accounting.EXAMPLES_EVAL),
        "ingested": value(properties.DAYS_INGESTED),
        "reused": value(properties.DAYS_REUSED),
    }


def _statistics(examples, out_dir: str, cache: str, beam_args) -> tuple[dict, float]:
    from tfx.types import standard_artifacts

    from components.fast_statistics_gen import executor as fast_executor
    from pipeline.pipeline import STATISTICS_CACHE_DIR

    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = os.path.join(out_dir, "statistics")
    context = fast_executor.Executor.Context(
        beam_pipeline_args=beam_args, tmp_dir=os.path.join(out_dir, "stats_tmp"), unique_id="2"
    )
    params = {"exclude_splits": "[]"}
    if cache:
        params[fast_executor.ACCUMULATOR_CACHE_KEY] = os.path.join(cache, STATISTICS_CACHE_DIR)
    # Built before the clock starts: with these Beam arguments (no --extra_package, which
    # the local runner passes) TFX builds its own sdist in the constructor, a pipeline once.
    statistics_gen = fast_executor.Executor(context)
    start = time.time()
    statistics_gen.Do({"examples": [examples]}, {"statistics": [statistics]}, params)
    seconds = time.time() - start
    props = statistics.mlmd_artifact.custom_properties
    return {k: v.int_value for k, v in props.items() if v.HasField("int_value")}, seconds


def _in_fresh_process(*args) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_run, *args).result()


def main() -> None:
    """Runs the benchmark and prints its figures."""
    keras_mode.use_legacy_keras()  # the executor processes inherit it
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=28, help="the window's length")
    parser.add_argument("--scale", type=float, default=2.5)
    parser.add_argument("--multi-processing", action="store_true")
    parser.add_argument("--work-dir", help="where to generate and write (default: a temp dir)")
    args = parser.parse_args()
    beam_args = _beam_args(args.multi_processing)
    from deploy.datasets.synthetic.cities import get_city
    from deploy.datasets.synthetic.generator import generate

    with tempfile.TemporaryDirectory(prefix="bench_day_cache_", dir=args.work_dir) as tmp:
        data = os.path.join(tmp, "city")
        generate(get_city("london"), data, days=args.days + 1, file_format="csv", scale=args.scale)
        names = sorted(n for n in os.listdir(data) if n.endswith(".csv"))
        newest = datetime.date.fromisoformat(names[-1][:10])
        before = (newest - datetime.timedelta(days=1)).isoformat()
        cache = os.path.join(tmp, "day_cache")
        runs = [
            ("cold", before, cache),
            ("full", newest.isoformat(), ""),
            ("nightly", newest.isoformat(), cache),
        ]
        print(f"window {args.days} days, {len(names)} daily files generated; beam {beam_args}")
        results = {}
        for label, as_of, run_cache in runs:
            out = os.path.join(tmp, label)
            result = _in_fresh_process(data, out, as_of, args.days, run_cache, beam_args)
            results[label] = result
            print(
                f"{label:8s} as of {as_of}: {result['rows']:>9d} rows"
                f"  ExampleGen {result['seconds']:6.1f} s (ingested {result['ingested']},"
                f" reused {result['reused']}; train {result['train']}, eval {result['eval']})"
                f"  StatisticsGen {result['stats_seconds']:6.1f} s (files reused"
                f" {result['stats_reused']}, read {result['stats_read']})"
            )
        full, nightly, cold = results["full"], results["nightly"], results["cold"]
        same = (full["train"], full["eval"]) == (nightly["train"], nightly["eval"])
        both = {k: r["seconds"] + r["stats_seconds"] for k, r in results.items()}
        print(f"nightly / full ExampleGen time: {nightly['seconds'] / full['seconds']:.3f}")
        stats_ratio = nightly["stats_seconds"] / full["stats_seconds"]
        print(f"nightly / full StatisticsGen time: {stats_ratio:.3f}")
        print(
            f"nightly / full ExampleGen + StatisticsGen time: {both['nightly'] / both['full']:.3f}"
        )
        cold_ratio = cold["seconds"] / full["seconds"]
        print(f"cold (fills the cache) / full ExampleGen time: {cold_ratio:.3f}")
        print(f"nightly and full wrote the same examples per split: {same}")


if __name__ == "__main__":
    main()
