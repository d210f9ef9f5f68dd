"""Benchmark: the whole pipeline, ExampleGen through Pusher, at 1M, 4M and 10M rows.

For each size, London-like observations with about that many rows are generated (28
daily CSV files; the generator's volume ``scale`` calibrated on a small generated run),
then the real pipeline, wired by ``create_pipeline`` with London's config (the Trainer
at ``--train-steps``, 1000 by default) and the ``direct`` Beam profile, runs end to end
in a fresh process with its own SQLite MLMD store and no cache. Per stage it prints the
seconds (from the runner's progress lines), rows/s (the rows ExampleGen read over the
stage's seconds) and the peak memory of the whole process tree: the sum of the RSS of
the runner process and all its descendants (the Beam workers), polled with psutil
every 0.2 s; then the whole run's wall seconds and peak. Each size's rows are printed
as soon as it finishes. Figures are of one run each; the machine's other load shows.

With ``--statistics``, StatisticsGen's three paths then run again on the same
ExampleGen output, each alone in a fresh process measured the same way: the stock
executor (TFDV's Beam path on the ``direct`` profile's DirectRunner), FastStatisticsGen
in memory (a budget larger than any split) and streamed (a 1 MB budget). Its table
gives seconds, rows/s and peak memory, and each path's ratios to the stock executor.

    python -m benchmarks.bench_scale --workers 2          # 1M, 4M, 10M rows
    python -m benchmarks.bench_scale --rows 0.2M,0.5M --workers 2 --keep /tmp/scale
    python -m benchmarks.bench_scale --rows 1M,4M --workers 2 --statistics
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

import psutil

from pipeline import pipeline as wiring

DEFAULT_ROWS = "1M,4M,10M"
DAYS = 28
CALIBRATION_SCALE = 0.05
ROWS_TOLERANCE = 0.02
SAMPLE_INTERVAL_S = 0.2
CITY = "london"
# StatisticsGen paths of --statistics: name -> FastStatisticsGen's memory_budget_mb
# (None: the stock executor). 1 MB streams every split; 10**6 MB holds any in memory.
STATISTICS_PATHS = {"stock Beam": None, "in memory": 10**6, "streaming": 1}
DEFAULT_TRAIN_STEPS = 1000
# The stages the scaling table is about (the run also has SchemaGen, ExampleValidator
# and the baseline resolver, which do not read the rows).
TABLE_STAGES = (
    wiring.EXAMPLE_GEN,
    wiring.STATISTICS_GEN,
    wiring.TRANSFORM,
    wiring.TRAINER,
    wiring.EVALUATOR,
    wiring.PUSHER,
)
# Stages whose row in the table names the path they took (key of ``_paths_taken``).
STAGE_PATHS = {wiring.STATISTICS_GEN: "statistics", wiring.TRAINER: "trainer"}
WHOLE_RUN = "whole run"  # the table's row of the run's wall seconds and overall peak


def parse_rows(text: str) -> list[int]:
    """``"1M,4M,0.5M,200k,1000"`` -> row counts."""
    sizes = []
    for item in text.split(","):
        item = item.strip().lower()
        factor = {"k": 1_000, "m": 1_000_000}.get(item[-1:], 1)
        number = item[:-1] if factor > 1 else item
        try:
            rows = int(float(number) * factor)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"--rows: {item!r} is not a row count") from err
        if rows < 1000:
            raise argparse.ArgumentTypeError(f"--rows: {item!r} is under 1000 rows")
        sizes.append(rows)
    return sizes


class TreePeak:
    """Peak RSS sum of this process and its descendants, per pipeline stage."""

    def __init__(self) -> None:
        self.stage = ""
        self.peaks: dict[str, float] = {}
        self.overall = 0.0  # the peak over every sample, whatever the stage
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tree_rss_mb(self) -> float:
        total = 0
        for proc in [self._process, *self._process.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:  # a worker that exited between listing and reading
                continue
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            stage, rss_mb = self.stage, self.tree_rss_mb()
            self.overall = max(self.overall, rss_mb)
            if stage:
                self.peaks[stage] = max(self.peaks.get(stage, 0.0), rss_mb)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _run_stages(data_dir: str, out_dir: str, workers: int | None, train_steps: int) -> dict:
    """In a fresh process: the whole pipeline through Pusher, measured."""
    import dataclasses

    from deploy.mlmd import metadata
    from deploy.runners.local.runner import ComponentFailedError, LocalLayout, run_pipeline
    from pipeline.config import load_config

    config = load_config(CITY)
    config = config.replace(training=dataclasses.replace(config.training, train_steps=train_steps))
    layout = LocalLayout(Path(out_dir))
    stages: dict[str, dict] = {}
    with TreePeak() as peak:

        def progress(node: str, state: str, elapsed: float) -> None:
            if state == "running":
                stages[node] = {"tree_mb_at_start": peak.tree_rss_mb()}
                peak.stage = node
            else:
                peak.stage = ""
                stages[node]["seconds"] = elapsed

        start = time.monotonic()
        try:
            run_pipeline(
                config, layout, data_dir, workers=workers, enable_cache=False, progress=progress
            )
        except ComponentFailedError as err:
            # Its (component, reason) constructor does not unpickle in the parent process,
            # which would then report only a broken process pool: pass the message on.
            raise RuntimeError(str(err)) from None
        wall = time.monotonic() - start
    stages[WHOLE_RUN] = {"seconds": wall, "peak_mb": peak.overall, "tree_mb_at_start": 0.0}
    for node, figures in stages.items():
        figures.setdefault("peak_mb", peak.peaks.get(node, figures["tree_mb_at_start"]))
    store = metadata.open_store(layout.metadata_location)
    name = wiring.pipeline_name(CITY)
    example_gen = metadata.latest_execution_of(store, name, wiring.EXAMPLE_GEN)
    examples = metadata.outputs_of(store, example_gen.id, "examples")[0]
    return {
        "rows": metadata.custom_properties(examples)["rows_read"],
        "stages": stages,
        "paths": _paths_taken(store, name),
    }


def _paths_taken(store, name: str) -> dict:
    """Which path StatisticsGen and the Trainer took, and the Evaluator's verdict."""
    import json

    from google.protobuf import json_format

    from components.fast_statistics_gen import executor as statistics_executor
    from deploy.mlmd import metadata
    from transforms.trainer import TRAINING_INPUT_FILE

    def output(node: str, key: str):
        execution = metadata.latest_execution_of(store, name, node)
        return metadata.outputs_of(store, execution.id, key)[0]

    statistics = metadata.custom_properties(output(wiring.STATISTICS_GEN, "statistics"))
    statistics_paths = json_format.MessageToDict(
        statistics[statistics_executor.STATISTICS_PATH_PROPERTY]
    )
    model_run = Path(output(wiring.TRAINER, "model_run").uri)
    training = json.loads((model_run / TRAINING_INPUT_FILE).read_text())
    blessing = metadata.custom_properties(output(wiring.EVALUATOR, "blessing"))
    return {
        "statistics": ", ".join(sorted(set(statistics_paths.values()))),
        "trainer": training["path"],
        "blessed": blessing.get("blessed"),
    }


def _examples_of_run(out_dir: str) -> tuple[str, str]:
    """URI and split names of the Examples that the run in ``out_dir`` produced."""
    from deploy.mlmd import metadata
    from deploy.runners.local.runner import LocalLayout

    store = metadata.open_store(LocalLayout(Path(out_dir)).metadata_location)
    name = wiring.pipeline_name(CITY)
    example_gen = metadata.latest_execution_of(store, name, wiring.EXAMPLE_GEN)
    examples = metadata.outputs_of(store, example_gen.id, "examples")[0]
    return examples.uri, examples.properties["split_names"].string_value


def _run_statistics(
    examples_uri: str, split_names: str, out_dir: str, path: str, workers: int | None
) -> dict:
    """In a fresh process: one StatisticsGen path on the run's Examples, measured."""
    from tfx.components.statistics_gen import executor as stock
    from tfx.components.statistics_gen import stats_artifact_utils
    from tfx.components.util import examples_utils
    from tfx.proto import example_gen_pb2
    from tfx.types import artifact_utils, standard_artifacts

    from components.fast_statistics_gen import executor as fast
    from deploy.runners import beam_profiles
    from pipeline.config import load_config

    examples = standard_artifacts.Examples()
    examples.uri, examples.split_names = examples_uri, split_names
    examples_utils.set_payload_format(examples, example_gen_pb2.FORMAT_TF_EXAMPLE)
    statistics = standard_artifacts.ExampleStatistics()
    statistics.uri = out_dir
    budget_mb = STATISTICS_PATHS[path]
    executor_class = stock.Executor if budget_mb is None else fast.Executor
    args = beam_profiles.beam_args(load_config(CITY).beam, workers=workers)
    context = executor_class.Context(beam_pipeline_args=args, tmp_dir=f"{out_dir}/.tmp")
    properties = {"exclude_splits": "[]"}
    if budget_mb is not None:
        properties[fast.MEMORY_BUDGET_MB_KEY] = budget_mb
    with TreePeak() as peak:
        start_mb = peak.tree_rss_mb()
        peak.stage = path
        start = time.monotonic()
        executor_class(context).Do(
            {"examples": [examples]}, {"statistics": [statistics]}, properties
        )
        seconds = time.monotonic() - start
        peak.stage = ""
    splits = artifact_utils.decode_split_names(statistics.split_names)
    rows = sum(
        stats_artifact_utils.load_statistics(statistics, split).proto().datasets[0].num_examples
        for split in splits
    )
    ran = statistics.get_json_value_custom_property(fast.STATISTICS_PATH_PROPERTY)
    return {
        "path": path,
        "ran": dict(ran) if ran else {},
        "rows": rows,
        "seconds": seconds,
        "peak_mb": peak.peaks.get(path, start_mb),
        "tree_mb_at_start": start_mb,
    }


def _generate(out: Path, rows: int) -> int:
    """Generates about ``rows`` rows: a small calibration run, then corrections."""
    from deploy.datasets.synthetic import cities, generator
    from pipeline.config import load_config

    gen = load_config(CITY).generator
    profile, start = cities.get_city(CITY), date.fromisoformat(gen.start_date)
    scale = CALIBRATION_SCALE
    for _ in range(3):
        total = generator.generate(
            profile, out, days=DAYS, start_date=start, scale=scale, overwrite=True
        ).total_rows
        if abs(total / rows - 1) <= ROWS_TOLERANCE:
            break
        scale *= rows / total  # the volume is proportional to the scale
    return total


def _in_fresh_process(function, *args) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def _statistics_paths(size_dir: Path, workers: int | None) -> list[dict]:
    """StatisticsGen's paths, one fresh process each, on the size's ExampleGen output."""
    uri, split_names = _examples_of_run(str(size_dir / "out"))
    results = []
    for path in STATISTICS_PATHS:
        out = str(size_dir / "statistics" / path.replace(" ", "_"))
        result = _in_fresh_process(_run_statistics, uri, split_names, out, path, workers)
        print(
            f"  StatisticsGen {path:<11} {result['seconds']:7.1f} s  peak "
            f"{result['peak_mb']:7,.0f} MB (tree at start {result['tree_mb_at_start']:,.0f} MB)"
            f"  paths {result['ran']}",
            flush=True,
        )
        results.append(result)
    return results


def _print_statistics_table(by_size: list[list[dict]]) -> None:
    """Markdown table of the StatisticsGen paths; ratios are to the stock executor."""
    print("\n| rows | StatisticsGen path | seconds | rows/s | peak MB (process tree) "
          "| speed x stock | peak MB x stock |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for results in by_size:
        stock = results[0]
        for result in results:
            print(
                f"| {result['rows']:,} | {result['path']} | {result['seconds']:.1f} "
                f"| {result['rows'] / max(result['seconds'], 1e-9):,.0f} "
                f"| {result['peak_mb']:,.0f} | {stock['seconds'] / result['seconds']:.2f} "
                f"| {result['peak_mb'] / stock['peak_mb']:.2f} |"
            )


TABLE_HEADER = (
    "| rows | stage | seconds | rows/s | peak MB (process tree) "
    "| x rows | x seconds | x peak MB |\n"
    "|---|---|---|---|---|---|---|---|"
)


def table_rows(result: dict, base: dict) -> list[str]:
    """One size's markdown rows, stages in pipeline order then the whole run; the x
    columns are ratios to ``base`` (the first size). A stage that did not finish is left out."""
    rows = []
    for stage in (*TABLE_STAGES, WHOLE_RUN):
        figures, ref = result["stages"].get(stage, {}), base["stages"].get(stage, {})
        if "seconds" not in figures or "seconds" not in ref:
            continue
        label = stage
        if stage in STAGE_PATHS and result.get("paths"):
            label = f"{stage} ({result['paths'][STAGE_PATHS[stage]]})"
        rows.append(
            f"| {result['rows']:,} | {label} | {figures['seconds']:.1f} "
            f"| {result['rows'] / max(figures['seconds'], 1e-9):,.0f} "
            f"| {figures['peak_mb']:,.0f} | {result['rows'] / base['rows']:.2f} "
            f"| {figures['seconds'] / max(ref['seconds'], 1e-9):.2f} "
            f"| {figures['peak_mb'] / max(ref['peak_mb'], 1e-9):.2f} |"
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark and prints its figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=parse_rows, default=parse_rows(DEFAULT_ROWS))
    parser.add_argument("--workers", type=int, help="Beam DirectRunner workers (default: cores)")
    parser.add_argument(
        "--train-steps", type=int, default=DEFAULT_TRAIN_STEPS, help="the Trainer's steps"
    )
    parser.add_argument("--keep", help="keep data and outputs under this dir (default: a temp dir)")
    parser.add_argument(
        "--statistics",
        action="store_true",
        help="also measure StatisticsGen's paths (stock Beam, in memory, streaming)",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp_name:
        tmp = Path(args.keep) if args.keep else Path(tmp_name)
        tmp.mkdir(parents=True, exist_ok=True)
        print(f"{psutil.cpu_count()} cores; {DAYS} days of {CITY}; sizes {args.rows}", flush=True)
        results, statistics = [], []
        for rows in args.rows:
            size_dir = tmp / f"rows-{rows}"
            start = time.monotonic()
            generated = _generate(size_dir / "data", rows)
            print(f"generated {generated:,} rows in {time.monotonic() - start:.1f}s", flush=True)
            result = _in_fresh_process(
                _run_stages,
                str(size_dir / "data"),
                str(size_dir / "out"),
                args.workers,
                args.train_steps,
            )
            for stage, figures in result["stages"].items():
                print(
                    f"  {stage:<20} {figures.get('seconds', float('nan')):7.1f} s  "
                    f"peak {figures['peak_mb']:7,.0f} MB (tree at start "
                    f"{figures['tree_mb_at_start']:,.0f} MB)",
                    flush=True,
                )
            print(f"  paths: {result['paths']}", flush=True)
            results.append(result)
            print("\n".join(table_rows(result, results[0])), flush=True)
            if args.statistics:
                statistics.append(_statistics_paths(size_dir, args.workers))
            if not args.keep:
                shutil.rmtree(size_dir)
        print(f"\n{TABLE_HEADER}")
        for result in results:
            print("\n".join(table_rows(result, results[0])))
        if statistics:
            _print_statistics_table(statistics)


if __name__ == "__main__":
    main()
