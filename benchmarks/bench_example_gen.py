"""Benchmark: TrafficExampleGen vs stock CsvExampleGen on the same generated city.

Generates a ~1M-row London (``pipeline.synthetic``) unless ``--input-dir`` is given,
then runs each executor in a fresh process on the same files and the same Beam
options, and prints rows/s, peak RSS and the speed ratio measured in this run.
TrafficExampleGen is also run on the first half of the days, to show whether its
peak memory grows with input size.

    python -m benchmarks.bench_example_gen [--days 28 --scale 2.5] [--multi-processing]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import resource
import tempfile
import time

from components.traffic_example_gen import accounting  # sets the Keras mode first

STOCK = "stock CsvExampleGen"
TRAFFIC = "TrafficExampleGen"


def _beam_args(multi_processing: bool) -> list[str]:
    if multi_processing:
        return ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    return ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def _run_stock(input_dir: str, out_dir: str, beam_args: list[str]) -> int:
    import apache_beam as beam
    from tfx.components.example_gen.csv_example_gen import executor as csv_executor
    from tfx.proto import example_gen_pb2
    from tfx.types import artifact_utils, standard_artifacts
    from tfx.utils import proto_utils

    examples = standard_artifacts.Examples()
    examples.uri = out_dir
    input_config = example_gen_pb2.Input(
        splits=[example_gen_pb2.Input.Split(name="all", pattern="*.csv")]
    )
    output_config = example_gen_pb2.Output(
        split_config=example_gen_pb2.SplitConfig(
            splits=[
                example_gen_pb2.SplitConfig.Split(name="train", hash_buckets=4),
                example_gen_pb2.SplitConfig.Split(name="eval", hash_buckets=1),
            ]
        )
    )
    context = csv_executor.Executor.Context(
        make_beam_pipeline_fn=lambda: beam.Pipeline(argv=beam_args)
    )
    csv_executor.Executor(context).Do(
        {},
        {"examples": [examples]},
        {
            "input_base": input_dir,
            "input_config": proto_utils.proto_to_json(input_config),
            "output_config": proto_utils.proto_to_json(output_config),
            "output_data_format": example_gen_pb2.FORMAT_TF_EXAMPLE,
            "output_file_format": example_gen_pb2.FILE_FORMAT_UNSPECIFIED,
        },
    )
    del artifact_utils
    return -1  # stock ExampleGen does not count rows; the caller knows them


def _run_traffic(input_dir: str, out_dir: str, beam_args: list[str], span_end: str) -> int:
    import apache_beam as beam
    from tfx.types import standard_artifacts

    from components.traffic_example_gen import executor
    from components.traffic_example_gen.artifacts import TrafficRejects

    examples = standard_artifacts.Examples()
    examples.uri = os.path.join(out_dir, "examples")
    rejects = TrafficRejects()
    rejects.uri = os.path.join(out_dir, "rejects")
    context = executor.Executor.Context(make_beam_pipeline_fn=lambda: beam.Pipeline(argv=beam_args))
    executor.Executor(context).Do(
        {},
        {"examples": [examples], "rejects": [rejects]},
        {
            "input_base": input_dir,
            "span_end": span_end,
            "timezone": "Europe/London",
            "split_config": json.dumps({"kind": "time", "eval_fraction": 0.2}),
        },
    )
    return examples.get_int_custom_property(accounting.ROWS_READ)


def _child(kind: str, input_dir: str, out_dir: str, beam_args: list[str], span_end: str) -> dict:
    start = time.perf_counter()
    if kind == STOCK:
        rows = _run_stock(input_dir, out_dir, beam_args)
    else:
        rows = _run_traffic(input_dir, out_dir, beam_args, span_end)
    return {"seconds": time.perf_counter() - start, "rows": rows, "peak_rss_mb": _peak_rss_mb()}


def _in_fresh_process(*args) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_child, *args).result()


def _generate(out_dir: str, days: int, scale: float) -> tuple[int, list[str]]:
    from pipeline.synthetic.cities import get_city
    from pipeline.synthetic.generator import generate

    generate(get_city("london"), out_dir, days=days, file_format="csv", scale=scale)
    return _count_rows(out_dir)


def _count_rows(input_dir: str) -> tuple[int, list[str]]:
    names = sorted(n for n in os.listdir(input_dir) if n.endswith(".csv"))
    rows = 0
    for name in names:
        with open(os.path.join(input_dir, name), "rb") as handle:
            rows += sum(1 for _ in handle) - 1
    return rows, names


def main() -> None:
    """Runs the benchmark and prints its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", help="existing daily CSV files (skips generation)")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--scale", type=float, default=2.5)
    parser.add_argument("--multi-processing", action="store_true")
    args = parser.parse_args()
    beam_args = _beam_args(args.multi_processing)
    with tempfile.TemporaryDirectory(prefix="bench_example_gen_") as tmp:
        input_dir = args.input_dir or os.path.join(tmp, "city")
        if args.input_dir:
            rows, names = _count_rows(input_dir)
        else:
            rows, names = _generate(input_dir, args.days, args.scale)
        half_end = names[len(names) // 2 - 1][: len("YYYY-MM-DD")]
        print(f"input: {rows} rows in {len(names)} daily CSV files; beam args {beam_args}")
        results = {}
        for label, kind, span_end in (
            (TRAFFIC + " (first half)", TRAFFIC, half_end),
            (TRAFFIC, TRAFFIC, ""),
            (STOCK, STOCK, ""),
        ):
            out = os.path.join(tmp, label.replace(" ", "_"))
            result = _in_fresh_process(kind, input_dir, out, beam_args, span_end)
            if result["rows"] < 0:
                result["rows"] = rows
            results[label] = result
            print(
                f"{label:32s} {result['rows']:>9d} rows {result['seconds']:7.1f} s "
                f"{result['rows'] / result['seconds']:>10.0f} rows/s "
                f"peak RSS {result['peak_rss_mb']:7.0f} MB"
            )
        ours, stock = results[TRAFFIC], results[STOCK]
        half = results[TRAFFIC + " (first half)"]
        speedup = (ours["rows"] / ours["seconds"]) / (stock["rows"] / stock["seconds"])
        print(f"speed ratio TrafficExampleGen / CsvExampleGen: {speedup:.1f}x")
        print(
            "peak RSS ratio TrafficExampleGen all days / first half: "
            f"{ours['peak_rss_mb'] / half['peak_rss_mb']:.2f} for "
            f"{ours['rows'] / half['rows']:.2f}x the rows"
        )


if __name__ == "__main__":
    main()
