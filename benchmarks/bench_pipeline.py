"""Benchmark: the whole pipeline vs a stock TFX 1.16 pipeline on the same generated rows.

One invocation generates a London city of about ``--rows`` observations, then runs, each
in a fresh process and one after the other on the same machine:

- **stock**: pandas computes the same labels (local day/hour, seconds to the next vehicle
  per approach, the last ``eval_days`` local days as eval), writes CSV; then stock
  ``CsvExampleGen`` -> ``StatisticsGen`` -> ``SchemaGen`` -> ``ExampleValidator`` ->
  ``Transform`` (materialised, with statistics) -> ``Trainer`` (TFX-template input path,
  ``benchmarks.stock_trainer``) -> ``Evaluator`` (TFMA, the same EvalConfig) -> ``Pusher``;
- **this project**: ``create_pipeline`` through the local runner, as ``traffic-pipeline run``.

Both use the same ``preprocessing_fn``, model, train steps, Beam DirectRunner workers and
EvalConfig. Per-stage seconds come from ML Metadata (execution start to publish), the
total is the wall time of the process. Peak memory is the largest sum of RSS over the
process tree (runner and Beam workers), sampled every 0.2 s. The embedding quality
(Spearman of embedding distances vs the generator's true day-hour profile) and the
eval metrics show that the speed does not cost model quality.

    python -m benchmarks.bench_pipeline [--rows 1000000] [--train-steps 1000] [--workers 2]
        [--only ours|stock] [--rows-list 500000,1000000,2000000 --only ours]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import multiprocessing
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil

from transforms import features, keras_mode

DEFAULT_ROWS = 1_000_000
ROWS_PER_SCALE = 390_718  # London, 28 days, scale 1.0 (the make run default)
STAGES = (
    "ExampleGen",
    "StatisticsGen",
    "SchemaGen",
    "ExampleValidator",
    "Transform",
    "Trainer",
    "Evaluator",
    "Pusher",
)


class TreePeak:
    """Largest sum of RSS over this process and its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.2):
        self.peak_mb = 0.0
        self._interval, self._stop = interval, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.wait(self._interval):
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def stage_of(node_id: str) -> str:
    for stage in STAGES:
        if node_id.endswith(stage) or node_id == stage:
            return stage
    return "ExampleGen" if "ExampleGen" in node_id else node_id


def stage_seconds(metadata_path: str, pipeline_name: str) -> dict[str, float]:
    """Seconds per stage of the pipeline's latest run, from MLMD execution times."""
    from deploy.mlmd import metadata

    store = metadata.open_store(metadata_path)
    result: dict[str, float] = {}
    for node in metadata.run_executions(store, pipeline_name):
        ex = node.execution
        seconds = (ex.last_update_time_since_epoch - ex.create_time_since_epoch) / 1000
        stage = stage_of(node.node_id)
        result[stage] = result.get(stage, 0.0) + seconds
    return result


def generate_city(out: Path, rows: int) -> int:
    from deploy.datasets.synthetic.cities import get_city
    from deploy.datasets.synthetic.generator import generate

    summary = generate(get_city("london"), out, days=28, scale=rows / ROWS_PER_SCALE)
    return summary.total_rows


def stock_csv(data_dir: Path, out: Path, timezone: str, eval_days: int) -> dict[str, int]:
    """Labels computed with pandas, written as train/ and eval/ CSV for CsvExampleGen."""
    import pandas as pd

    from transforms import features as f

    frames = [pd.read_csv(p) for p in sorted(data_dir.glob("*.csv"))]
    df = pd.concat(frames, ignore_index=True)
    utc = pd.to_datetime(df[f.RAW_TIMESTAMP], utc=True)
    local = utc.dt.tz_convert(timezone)
    df[f.TIMESTAMP_UTC] = utc.astype("int64") // 10**9
    df[f.DAY_OF_WEEK] = local.dt.dayofweek
    df[f.HOUR] = local.dt.hour
    df["_t"] = utc.astype("int64") / 1e9
    df["_date"] = local.dt.date
    df = df.sort_values([f.INTERSECTION, f.DIRECTION, "_t"], kind="stable")
    df[f.SECONDS_TO_NEXT_VEHICLE] = -df.groupby([f.INTERSECTION, f.DIRECTION])["_t"].diff(-1)
    df = df.dropna(subset=[f.SECONDS_TO_NEXT_VEHICLE])
    dates = sorted(df["_date"].unique())
    is_eval = df["_date"].isin(dates[-eval_days:])
    columns = [
        f.TIMESTAMP_UTC,
        f.DAY_OF_WEEK,
        f.HOUR,
        f.INTERSECTION,
        f.DIRECTION,
        f.VEHICLE_TYPE,
        f.SECONDS_TO_NEXT_VEHICLE,
    ]
    counts = {}
    for split, mask in (("train", ~is_eval), ("eval", is_eval)):
        (out / split).mkdir(parents=True)
        df.loc[mask, columns].to_csv(out / split / "data.csv", index=False)
        counts[split] = int(mask.sum())
    return counts


def _run_stock(data_dir: str, work: str, train_steps: int, workers: int) -> dict:
    from tfx import v1 as tfx

    from deploy.mlmd import metadata
    from pipeline.config import load_config
    from pipeline.evaluation import build_eval_config
    from pipeline.pipeline import PREPROCESSING_FN

    config = load_config("london")
    prep_start = time.monotonic()
    counts = stock_csv(Path(data_dir), Path(work) / "csv", config.timezone, 7)
    prep_seconds = time.monotonic() - prep_start
    example_gen = tfx.components.CsvExampleGen(
        input_base=str(Path(work) / "csv"),
        input_config=tfx.proto.Input(
            splits=[
                tfx.proto.Input.Split(name="train", pattern="train/*"),
                tfx.proto.Input.Split(name="eval", pattern="eval/*"),
            ]
        ),
    )
    statistics = tfx.components.StatisticsGen(examples=example_gen.outputs["examples"])
    schema = tfx.components.SchemaGen(statistics=statistics.outputs["statistics"])
    validator = tfx.components.ExampleValidator(
        statistics=statistics.outputs["statistics"], schema=schema.outputs["schema"]
    )
    transform = tfx.components.Transform(
        examples=example_gen.outputs["examples"],
        schema=schema.outputs["schema"],
        preprocessing_fn=PREPROCESSING_FN,
        custom_config=config.preprocessing_config(),
    )
    trainer = tfx.components.Trainer(
        run_fn="benchmarks.stock_trainer.run_fn",
        examples=transform.outputs["transformed_examples"],
        transform_graph=transform.outputs["transform_graph"],
        schema=schema.outputs["schema"],
        train_args=tfx.proto.TrainArgs(num_steps=train_steps),
        eval_args=tfx.proto.EvalArgs(num_steps=config.training.eval_steps),
        custom_config=config.trainer_custom_config(),
    )
    evaluator = tfx.components.Evaluator(
        examples=example_gen.outputs["examples"],
        model=trainer.outputs["model"],
        example_splits=["eval"],
        eval_config=build_eval_config(config.evaluation, config.data.kind),
    )
    pusher = tfx.components.Pusher(
        model=trainer.outputs["model"],
        model_blessing=evaluator.outputs["blessing"],
        push_destination=tfx.proto.PushDestination(
            filesystem=tfx.proto.PushDestination.Filesystem(
                base_directory=str(Path(work) / "serving")
            )
        ),
    )
    metadata_path = str(Path(work) / "metadata.sqlite")
    pipeline = tfx.dsl.Pipeline(
        pipeline_name="stock",
        pipeline_root=str(Path(work) / "root"),
        components=[
            *(example_gen, statistics, schema, validator, transform, trainer),
            *(evaluator, pusher),
        ],
        metadata_connection_config=metadata.sqlite_config(metadata_path),
        beam_pipeline_args=[
            "--runner=DirectRunner",
            f"--direct_num_workers={workers}",
            "--direct_running_mode=multi_processing",
        ],
    )
    start = time.monotonic()
    tfx.orchestration.LocalDagRunner().run(pipeline)
    wall = time.monotonic() - start
    model_dir = _trained_model(Path(work) / "root")
    return {
        "stages": stage_seconds(metadata_path, "stock"),
        "wall": wall,
        "label_prep_seconds": prep_seconds,
        "rows": counts,
        "model_dir": model_dir,
        # The stock model is built without ``approaches`` (stock_trainer), so the table
        # its approach-comparison output (nll_vs_approach_average) compares with was
        # never fitted: those metrics mean nothing and are not shown.
        "metrics": {
            name: value
            for name, value in _overall_metrics(Path(work) / "root", "Evaluator").items()
            if not name.startswith(f"{features.APPROACH_COMPARISON_OUTPUT}/")
        },
    }


def _run_ours(data_dir: str, work: str, train_steps: int, workers: int) -> dict:
    from deploy.runners.local.runner import LocalLayout, run_pipeline
    from pipeline.config import load_config
    from pipeline.pipeline import EVALUATOR, pipeline_name

    config = load_config("london")
    config = config.replace(
        training=type(config.training)(**{**config.training.__dict__, "train_steps": train_steps})
    )
    layout = LocalLayout(Path(work))
    start = time.monotonic()
    run_pipeline(config, layout, data_dir, workers=workers)
    wall = time.monotonic() - start
    return {
        "stages": stage_seconds(str(layout.metadata_path), pipeline_name("london")),
        "wall": wall,
        "model_dir": _trained_model(layout.pipeline_root("london")),
        "metrics": _overall_metrics(layout.pipeline_root("london"), EVALUATOR),
    }


def _trained_model(root: Path) -> str:
    """The Trainer's exported model (blessed or not: quality is measured either way)."""
    from tfx.utils import path_utils

    runs = sorted((root / "Trainer" / "model").iterdir(), key=lambda p: int(p.name))
    return path_utils.serving_model_dir(str(runs[-1])) if runs else ""


def _overall_metrics(root: Path, evaluator: str) -> dict[str, float]:
    import tensorflow_model_analysis as tfma

    uri = sorted((root / evaluator / "evaluation").iterdir(), key=lambda p: int(p.name))[-1]
    result = dict(tfma.load_eval_result(str(uri)).slicing_metrics)[()]
    flat = {}
    for output, by_sub_key in result.items():
        for name, value in by_sub_key[""].items():
            flat[f"{output}/{name}" if output else name] = value.get("doubleValue")
    return flat


def _child(kind: str, data_dir: str, work: str, train_steps: int, workers: int) -> dict:
    keras_mode.use_legacy_keras()
    run = _run_stock if kind == "stock" else _run_ours
    with TreePeak() as peak:
        result = run(data_dir, work, train_steps, workers)
    result["peak_tree_mb"] = peak.peak_mb
    if result["model_dir"]:
        from benchmarks.embedding_quality import embedding_quality

        result["embedding_spearman"] = embedding_quality(
            result["model_dir"], str(Path(data_dir) / "ground_truth.json")
        )
    return result


def in_fresh_process(*args) -> dict:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_child, *args).result()


def print_table(rows: int, results: dict[str, dict]) -> None:
    kinds = list(results)
    print(f"\n{rows:,} generated rows; seconds per stage (MLMD), wall = whole process")
    print(
        f"{'stage':<18}"
        + "".join(f"{k:>14}" for k in kinds)
        + ("   ratio" if len(kinds) == 2 else "")
    )
    for stage in (*STAGES, "wall"):
        values = [
            r["wall"] if stage == "wall" else r["stages"].get(stage, 0.0) for r in results.values()
        ]
        line = f"{stage:<18}" + "".join(f"{v:>14.1f}" for v in values)
        if len(values) == 2 and values[1] > 0:
            line += f"   {values[0] / values[1]:5.1f}x"
        print(line)
    for key in ("peak_tree_mb", "embedding_spearman"):
        print(
            f"{key:<18}" + "".join(f"{r.get(key, float('nan')):>14.2f}" for r in results.values())
        )
    for kind, result in results.items():
        shown = {k: round(v, 4) for k, v in sorted(result["metrics"].items())}
        print(f"{kind} eval metrics (overall): {shown}")
        if "label_prep_seconds" in result:
            print(f"{kind}: pandas label prep {result['label_prep_seconds']:.1f}s (not counted)")


def main(argv: list[str] | None = None) -> None:
    keras_mode.use_legacy_keras()  # the spawned children inherit it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--rows-list", help="comma-separated sizes (memory growth check)")
    parser.add_argument("--train-steps", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--only", choices=("stock", "ours"))
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.rows_list.split(",")] if args.rows_list else [args.rows]
    kinds = [args.only] if args.only else ["stock", "ours"]
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            data = Path(tmp) / f"data-{size}"
            generated = generate_city(data, size)
            results = {}
            for kind in kinds:
                work = tempfile.mkdtemp(dir=tmp, prefix=f"{kind}-{size}-")
                results[kind] = in_fresh_process(
                    kind, str(data), work, args.train_steps, args.workers
                )
            print_table(generated, results)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
