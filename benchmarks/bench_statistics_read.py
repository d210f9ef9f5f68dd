"""FastStatisticsGen's reading: tfx_bsl's decoder on one thread vs ``DECODE_THREADS``.

On an ExampleGen output (e.g. one ``bench_scale --keep`` left), runs each split's
in-memory path (``reading.read_record_batch`` + TFDV's combiners) and streaming path
(``reading.read_batches`` + the combiners) with the batches decoded on 1 thread (the
reader before) and on ``reading.DECODE_THREADS`` threads, alternating, ``--rounds``
times, in this one process. Prints the wall and CPU seconds of each and the speed-up;
checks that both give the same statistics, byte for byte. Only ratios of the same run
mean anything on a shared machine.

    python -m benchmarks.bench_statistics_read --examples OUT/.../TrafficExampleGen/examples/N
"""

from __future__ import annotations

import argparse
import time

from transforms import keras_mode

# TensorFlow and TFDV are imported inside main(): it pins Keras 2 first.


def main(argv: list[str] | None = None) -> None:
    """Times both readers on every split; prints one line per run and the ratios."""
    keras_mode.use_legacy_keras()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True, help="an Examples artifact's directory")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    import tensorflow as tf
    import tensorflow_data_validation as tfdv

    from components.fast_statistics_gen import combiners, reading

    splits = sorted(
        d.rstrip("/").split("Split-", 1)[1] for d in tf.io.gfile.glob(f"{args.examples}/Split-*")
    )
    options = tfdv.StatsOptions()
    paths = {
        "in memory": lambda files, threads: [reading.read_record_batch(files, threads)],
        "streaming": lambda files, threads: reading.read_batches(
            files, reading.READ_BATCH_SIZE, threads
        ),
    }
    totals: dict[tuple[str, int], list[float]] = {}
    print("round  split  path  decode_threads  rows  wall_s  cpu_s")
    for round_index in range(args.rounds):
        for split in splits:
            files = sorted(tf.io.gfile.glob(f"{args.examples}/Split-{split}/*"))
            for path, batches in paths.items():
                outputs = set()
                for threads in (1, reading.DECODE_THREADS):
                    start, cpu = time.perf_counter(), time.process_time()
                    stats, rows = combiners.statistics_of_batches(batches(files, threads), options)
                    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
                    outputs.add(stats.SerializeToString(deterministic=True))
                    total = totals.setdefault((path, threads), [0.0, 0.0])
                    total[0] += wall
                    total[1] += cpu
                    print(f"{round_index}  {split}  {path}  {threads}  {rows:,}  ", end="")
                    print(f"{wall:.1f}  {cpu:.1f}")
                if len(outputs) != 1:
                    raise AssertionError(f"{split} {path}: the readers gave other statistics")
    for path in paths:
        one, many = totals[(path, 1)], totals[(path, reading.DECODE_THREADS)]
        print(
            f"{path}: all splits, all rounds: 1 thread {one[0]:.1f} s wall ({one[1]:.1f} CPU), "
            f"{reading.DECODE_THREADS} threads {many[0]:.1f} s wall ({many[1]:.1f} CPU): "
            f"wall speed-up {one[0] / many[0]:.2f}"
        )


if __name__ == "__main__":
    main()
