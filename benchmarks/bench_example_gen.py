"""Benchmark: TrafficExampleGen vs stock CsvExampleGen on the same generated city.

Generates a ~1M-row London (``deploy.datasets.synthetic``) unless ``--input-dir`` is given,
then runs each executor in a fresh process on the same files and the same Beam
options, and prints rows/s, peak RSS and the speed ratio measured in this run.
Rows/s are of the executor's ``Do``; the launching process's start-up (Python and
TFX/TensorFlow imports, which a pipeline run pays once for all components) is timed
separately. Peak RSS is of the launching process (the Beam runner) and of its
largest descendant (a multi-processing Beam worker). TrafficExampleGen is also run on
leading fractions of the days (``--fractions``), to show whether its peak memory grows
with input size.

It first compares the tf.Example encoding alone (``encoder_comparison``): our numpy
framer against tfx_bsl's ``RecordBatchToExamplesEncoder`` on the same rows.

    python -m benchmarks.bench_example_gen [--days 28 --scale 2.5] [--multi-processing]
    python -m benchmarks.bench_example_gen --encoder-only [--encoder-rows 1000000]
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
    from deploy.datasets.synthetic.cities import get_city
    from deploy.datasets.synthetic.generator import generate

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


def _encoder_input(rows: int, approaches: int = 40, seed: int = 0) -> list[tuple]:
    """Random labeled rows: (intersection, direction, Chunk, labels) per approach."""
    import numpy as np

    from components.traffic_example_gen.chunks import NO_LANE, Chunk
    from transforms import features

    rng = np.random.default_rng(seed)
    per = rows // approaches
    out = []
    for a in range(approaches):
        lane = rng.integers(1, 4, per)
        lane[rng.random(per) < 0.3] = NO_LANE
        speed = rng.normal(40, 10, per)
        speed[rng.random(per) < 0.3] = np.nan
        chunk = Chunk(
            ts_us=np.sort(rng.integers(1_773_619_200, 1_776_038_400, per)) * 1_000_000,
            vehicle_type=rng.integers(0, len(features.VEHICLE_TYPES), per).astype(np.int8),
            lane=lane,
            speed=speed,
            day_of_week=rng.integers(0, 7, per).astype(np.int8),
            hour=rng.integers(0, 24, per).astype(np.int8),
            is_eval=np.zeros(per, bool),
            file_index=np.zeros(per, np.int32),
            row=np.arange(per, dtype=np.int64),
        )
        direction = features.DIRECTIONS[a % len(features.DIRECTIONS)]
        out.append((f"LDN-{a // 4:04d}", direction, chunk, rng.exponential(30, per)))
    return out


def encoder_comparison(rows: int, repeats: int = 3) -> tuple[float, float, float]:
    """Rows/s of our numpy framer, of tfx_bsl's ``RecordBatchToExamplesEncoder`` alone,
    and of the whole stock path (build the batches, encode, ``frame_records``).

    Same rows, same per-approach batches, best of ``repeats`` interleaved runs. The
    encoder alone gets ready-made Arrow record batches (their building is not timed) and
    returns serialized examples; ours starts from the staged numpy columns and also
    frames each record for TFRecord (length, masked CRC32Cs), so it does more work. The
    stock path does what ours does: from the same numpy columns it builds the batches,
    encodes them and frames the records (``frame_records``).
    """
    import numpy as np
    from tfx_bsl.coders.example_coder import RecordBatchToExamplesEncoder

    from components.traffic_example_gen.example_wire import ExampleFramer, frame_records
    from tests.components.traffic_example_gen.tfx_bsl_reference import to_record_batch
    from transforms import features

    data = _encoder_input(rows)
    vocabulary = np.array(sorted({d[0] for d in data}), dtype=object)
    framer = ExampleFramer(vocabulary)
    codes = [
        (
            np.full(len(c), np.searchsorted(vocabulary, i), np.int32),
            np.full(len(c), features.DIRECTIONS.index(d), np.int8),
        )
        for i, d, c, _ in data
    ]
    batches = [to_record_batch(*d) for d in data]
    encoder = RecordBatchToExamplesEncoder()
    total = sum(len(d[2]) for d in data)

    def ours() -> None:
        for (intersection, direction), (_, _, chunk, labels) in zip(codes, data, strict=True):
            framer.frame(intersection, direction, chunk, labels)

    def tfx_bsl() -> None:
        for batch in batches:
            encoder.encode(batch)

    def stock_path() -> None:
        for approach in data:
            frame_records(encoder.encode(to_record_batch(*approach)))

    seconds: dict = {ours: [], tfx_bsl: [], stock_path: []}
    for _ in range(repeats):  # interleaved, so both see the same machine load
        for fn, times in seconds.items():
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return tuple(total / min(seconds[fn]) for fn in (ours, tfx_bsl, stock_path))


def _print_encoder_comparison(rows: int) -> None:
    ours, theirs, stock = encoder_comparison(rows)
    print(
        f"tf.Example encoding alone, {rows} rows: ours (numpy, TFRecord-framed) "
        f"{ours:,.0f} rows/s, tfx_bsl RecordBatchToExamplesEncoder {theirs:,.0f} rows/s, "
        f"ratio {ours / theirs:.2f}x; stock path (build batches + encode + frame_records) "
        f"{stock:,.0f} rows/s, ratio {ours / stock:.2f}x",
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
    parser.add_argument("--encoder-rows", type=int, default=1_000_000)
    parser.add_argument(
        "--encoder-only", action="store_true", help="only the tf.Example encoder comparison"
    )
    args = parser.parse_args()
    _print_encoder_comparison(args.encoder_rows)
    if args.encoder_only:
        return
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
