"""Benchmark: the FastEvaluator executor's time and peak memory on a large eval split.

Writes ``--rows`` synthetic raw examples (``bench_trainer.write_raw_examples``, one
gzipped TFRecord file), the real transform graph, and two untrained models of
different seeds (candidate and baseline, so every ``_diff`` metric is computed), then
runs the executor with the events EvalConfig and its default gate in a fresh process
per source tree: this worktree, and each ``--before`` tree (e.g. an older commit
exported with ``git archive``). Each child prints its seconds and its own peak RSS
(``ru_maxrss``: the TFMA writers run in-process, so that is the executor's peak). The
overall slice's metrics of every tree are compared with the first one's, and the
number of matching significant digits printed.

    git archive 4329e6c | tar -x -C /work/scratch/before
    python -m benchmarks.bench_evaluator --rows 2M --before /work/scratch/before
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_scale import parse_rows
from transforms import keras_mode

# The child: runs the executor of whatever tree is first on its PYTHONPATH.
CHILD = """
import json, os, resource, sys, time
from transforms import keras_mode
keras_mode.use_legacy_keras()
import tensorflow_model_analysis as tfma
from tfx.types import artifact_utils, standard_artifacts
from components.fast_evaluator import executor

work, eval_config = sys.argv[1], sys.argv[2]
examples = standard_artifacts.Examples()
examples.uri = os.path.join(work, "examples")
examples.split_names = artifact_utils.encode_split_names(["eval"])
models = {}
for key, artifact_id in (("model", 1), ("baseline_model", 2)):
    models[key] = standard_artifacts.Model()
    models[key].uri, models[key].id = os.path.join(work, key), artifact_id
out = os.path.join(work, "out", sys.argv[3])
evaluation, blessing = standard_artifacts.ModelEvaluation(), standard_artifacts.ModelBlessing()
evaluation.uri, blessing.uri = os.path.join(out, "evaluation"), os.path.join(out, "blessing")
os.makedirs(blessing.uri)
start = time.perf_counter()
executor.Executor().Do(
    {"examples": [examples], **{k: [v] for k, v in models.items()}},
    {"evaluation": [evaluation], "blessing": [blessing]},
    {"eval_config": eval_config, "example_splits": json.dumps(["eval"])},
)
seconds = time.perf_counter() - start
overall = dict(tfma.load_eval_result(evaluation.uri).slicing_metrics)[()]
metrics = {
    f"{output}/{name}": value["doubleValue"]
    for output, by_sub_key in overall.items()
    for name, value in by_sub_key[""].items()
}
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_rss_mb": peak_mb, "metrics": metrics}))
"""


def _write_inputs(work: Path, rows: int) -> None:
    """Raw eval examples, the transform graph and two untrained exported models."""
    import tensorflow_transform as tft
    import tf_keras as keras

    from benchmarks.bench_trainer import transform_graph, write_raw_examples
    from transforms.export import export_serving_model
    from transforms.model import HParams, build_model

    split = work / "examples" / "Split-eval"
    split.mkdir(parents=True)
    write_raw_examples(rows, str(split / "data_tfrecord-00000-of-00001.gz"), seed=2)
    tft_output = tft.TFTransformOutput(transform_graph(str(work / "graph")))
    for key, seed in (("model", 1), ("baseline_model", 2)):
        keras.utils.set_random_seed(seed)
        hparams = HParams(seed=seed)
        export_serving_model(
            build_model(hparams),
            tft_output,
            str(work / key / "Format-Serving"),
            hparams.embedding_spec(),
        )


def _run_tree(tree: str, work: Path, eval_config: str, label: str) -> dict:
    env = {**os.environ, "PYTHONPATH": tree, "TF_USE_LEGACY_KERAS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(work), eval_config, label],
        env=env,
        cwd=tree,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"bench_evaluator: the executor of {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _digits(a: float, b: float) -> float:
    """Matching significant digits of ``b`` against ``a`` (16 when equal)."""
    if a == b:
        return 16.0
    return min(16.0, -math.log10(abs(a - b) / max(abs(a), abs(b))))


def main(argv: list[str] | None = None) -> None:
    """Writes the inputs once, runs every tree's executor and prints the comparison."""
    keras_mode.use_legacy_keras()
    from tfx.utils import proto_utils

    from pipeline.config import EvaluationConfig
    from pipeline.evaluation import build_eval_config

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=parse_rows, default=[2_000_000], help="e.g. 2M")
    parser.add_argument("--before", action="append", default=[], help="another source tree")
    parser.add_argument("--work", help="keep the inputs here (default: a temporary dir)")
    args = parser.parse_args(argv)
    here = str(Path(__file__).resolve().parents[1])
    eval_config = proto_utils.proto_to_json(build_eval_config(EvaluationConfig(), "events"))
    for rows in args.rows:
        with tempfile.TemporaryDirectory(dir=args.work) as tmp:
            work = Path(tmp)
            _write_inputs(work, rows)
            trees = {"this tree": here, **{f"before {i}": t for i, t in enumerate(args.before)}}
            results = {
                label: _run_tree(tree, work, eval_config, label.replace(" ", "_"))
                for label, tree in trees.items()
            }
            first = next(iter(results.values()))["metrics"]
            print(f"\n{rows:,} eval rows, candidate and baseline models")
            print(f"{'tree':<12} {'seconds':>8} {'rows/s':>10} {'peak RSS MB':>12} {'digits':>7}")
            for label, result in results.items():
                if set(result["metrics"]) != set(first):
                    sys.exit(f"bench_evaluator: {label} computes other metrics than this tree")
                digits = min(_digits(first[k], v) for k, v in result["metrics"].items())
                print(
                    f"{label:<12} {result['seconds']:>8.1f} {rows / result['seconds']:>10,.0f} "
                    f"{result['peak_rss_mb']:>12,.0f} {digits:>7.1f}"
                )


if __name__ == "__main__":
    main()
