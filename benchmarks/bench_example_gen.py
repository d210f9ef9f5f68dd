"""Benchmark: TrafficExampleGen vs stock CsvExampleGen on the same generated city.

Generates a ~1M-row London (``pipeline.synthetic``) unless ``--input-dir`` is given,
then runs each executor in a fresh process on the same files and the same Beam
options, and prints rows/s, peak RSS and the speed ratio measured in this run.
Rows/s are of the executor's ``Do``; the launching process's start-up (Python and
TFX/TensorFlow imports, which a pipeline run pays once for all components) is timed
separately. Peak RSS is of the launching process (the Beam runner) and of its
largest descendant (a multi-processing Beam worker). TrafficExampleGen is also run on
leading fractions of the days (``--fractions``), to show whether its peak memory grows
with input size.

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
import threading
import time

import psutil

from components.traffic_example_gen import accounting
from transforms import keras_mode

STOCK = "stock CsvExampleGen"
TRAFFIC = "TrafficExampleGen"


def _beam_args(multi_processing: bool) -> list[str]:
    if multi_processing:
        return ["--direct_running_mode=multi_processing", "--direct_num_workers=2"]
    return ["--direct_running_mode=in_memory", "--direct_num_workers=1"]


class _DescendantPeak:
    """Peak RSS of this process's descendants (the Beam workers), sampled in a thread.

    ``RUSAGE_CHILDREN`` is no use here: a forked child inherits its parent's RSS
    high-water mark. On Linux each process's own high-water mark (``VmHWM``) is read,
    so only growth in a worker's last sampling interval could be missed.
    """

    def __init__(self, interval: float = 0.2):
        self.peak_mb = 0.0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for child in psutil.Process().children(recursive=True):
            try:
                with open(f"/proc/{child.pid}/status") as handle:
                    hwm = [line for line in handle if line.startswith("VmHWM:")]
                kb = int(hwm[0].split()[1]) if hwm else child.memory_info().rss / 1024
            except (OSError, psutil.Error):
                continue
            self.peak_mb = max(self.peak_mb, kb / 1024)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._sample()

    def __enter__(self) -> _DescendantPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _import_executors() -> None:
    import apache_beam  # noqa: F401
    from tfx.components.example_gen.csv_example_gen import executor  # noqa: F401

    from components.traffic_example_gen import executor as traffic  # noqa: F401


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
    _import_executors()
    imported = time.time()
    with _DescendantPeak() as workers:
        if kind == STOCK:
            rows = _run_stock(input_dir, out_dir, beam_args)
        else:
            rows = _run_traffic(input_dir, out_dir, beam_args, span_end)
    return {
        "seconds": time.time() - imported,
        "import_seconds": imported - psutil.Process().create_time(),
        "rows": rows,
        "runner_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "worker_rss_mb": workers.peak_mb,
    }


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


def _print(label: str, result: dict) -> None:
    print(
        f"{label:36s} {result['rows']:>9d} rows {result['seconds']:7.1f} s "
        f"{result['rows'] / result['seconds']:>9.0f} rows/s "
        f"(+{result['import_seconds']:.1f} s process start: "
        f"{result['rows'] / (result['seconds'] + result['import_seconds']):>7.0f} rows/s) "
        f"peak RSS runner {result['runner_rss_mb']:5.0f} MB, "
        f"worker {result['worker_rss_mb']:5.0f} MB",
        flush=True,
    )


def main() -> None:
    """Runs the benchmark and prints its figures."""
    keras_mode.use_legacy_keras()  # the executor processes inherit it
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-dir", help="existing daily CSV files (skips generation)")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--scale", type=float, default=2.5)
    parser.add_argument("--multi-processing", action="store_true")
    parser.add_argument(
        "--fractions",
        default="0.5",
        help="comma-separated leading fractions of the days also run by TrafficExampleGen",
    )
    parser.add_argument("--skip-stock", action="store_true", help="only TrafficExampleGen")
    args = parser.parse_args()
    beam_args = _beam_args(args.multi_processing)
    with tempfile.TemporaryDirectory(prefix="bench_example_gen_") as tmp:
        input_dir = args.input_dir or os.path.join(tmp, "city")
        if args.input_dir:
            rows, names = _count_rows(input_dir)
        else:
            rows, names = _generate(input_dir, args.days, args.scale)
        print(f"input: {rows} rows in {len(names)} daily CSV files; beam args {beam_args}")
        runs = []
        for fraction in sorted(float(f) for f in args.fractions.split(",") if f):
            n = max(1, round(fraction * len(names)))
            runs.append((f"{TRAFFIC} ({n} of {len(names)} days)", TRAFFIC, names[n - 1][:10]))
        runs.append((TRAFFIC, TRAFFIC, ""))
        if not args.skip_stock:
            runs.append((STOCK, STOCK, ""))
        results = {}
        for label, kind, span_end in runs:
            out = os.path.join(tmp, label.replace(" ", "_"))
            result = _in_fresh_process(kind, input_dir, out, beam_args, span_end)
            if result["rows"] < 0:
                result["rows"] = rows
            results[label] = result
            _print(label, result)
        ours = results[TRAFFIC]
        if STOCK in results:
            stock = results[STOCK]
            speedup = (ours["rows"] / ours["seconds"]) / (stock["rows"] / stock["seconds"])
            with_imports = (ours["rows"] / (ours["seconds"] + ours["import_seconds"])) / (
                stock["rows"] / (stock["seconds"] + stock["import_seconds"])
            )
            print(
                f"speed ratio TrafficExampleGen / CsvExampleGen: {speedup:.1f}x "
                f"({with_imports:.1f}x counting each process's start-up)"
            )
        for label, result in results.items():
            if label.startswith(TRAFFIC + " ("):
                worker = ""
                if result["worker_rss_mb"]:
                    worker = f", worker {ours['worker_rss_mb'] / result['worker_rss_mb']:.2f}"
                print(
                    f"peak RSS all days / {label[len(TRAFFIC) + 1 :]}: runner "
                    f"{ours['runner_rss_mb'] / result['runner_rss_mb']:.2f}{worker} for "
                    f"{ours['rows'] / result['rows']:.2f}x the rows"
                )


if __name__ == "__main__":
    main()
