"""The scale benchmark: row sizes, the process-tree peak, and a whole run on a tiny size."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time

import pytest

from benchmarks import bench_scale
from benchmarks.bench_scale import TreePeak, parse_rows
from pipeline import pipeline as wiring

# Small, but dense enough for the curated schema (gaps under two days on every approach).
TINY_ROWS = "150k"


def test_row_sizes_accept_suffixes_and_reject_nonsense():
    assert parse_rows("1M,4M,10M") == [1_000_000, 4_000_000, 10_000_000]
    assert parse_rows("0.2M, 500k,2000") == [200_000, 500_000, 2000]
    for bad in ("lots", "10", "-1M"):
        with pytest.raises(argparse.ArgumentTypeError, match="--rows"):
            parse_rows(bad)


def test_tree_peak_counts_memory_held_by_a_child_process():
    held_mb = 300
    # The child fills its buffer (so the pages are resident), says so, then waits.
    code = f"b = bytearray(b'x' * ({held_mb} * 2**20)); print('ready', flush=True); input()"
    with TreePeak() as peak:
        peak.stage = "child"
        before = peak.tree_rss_mb()
        child = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # several sampling intervals
        peak.stage = ""
        child.communicate("\n", timeout=30)
    assert peak.peaks["child"] >= before + 0.9 * held_mb


def _table(output: str) -> dict[str, list[str]]:
    """Stage -> the cells of its row in the final table (the last one printed)."""
    table = output[output.rindex(bench_scale.TABLE_HEADER) :].splitlines()[2:]
    rows = {}
    for line in table:
        if not line.startswith("| "):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[1].split(" (")[0]] = cells
    return rows


@pytest.mark.slow
def test_a_tiny_run_measures_every_stage_through_the_pusher(tmp_path, capsys):
    bench_scale.main(
        ["--rows", TINY_ROWS, "--train-steps", "20", "--workers", "1", "--keep", str(tmp_path)]
    )
    rows = _table(capsys.readouterr().out)
    assert list(rows) == [*bench_scale.TABLE_STAGES, bench_scale.WHOLE_RUN]
    seconds = {stage: float(cells[2]) for stage, cells in rows.items()}
    peaks = {stage: float(cells[4].replace(",", "")) for stage, cells in rows.items()}
    # Every stage that reads or trains takes time; pushing a tiny model can round to 0.0 s.
    working = {stage: value for stage, value in seconds.items() if stage != wiring.PUSHER}
    assert all(value > 0 for value in working.values()) and seconds[wiring.PUSHER] >= 0, seconds
    # The stages run one after another inside the run; its peak is over all of them.
    stages = [stage for stage in rows if stage != bench_scale.WHOLE_RUN]
    assert seconds[bench_scale.WHOLE_RUN] >= sum(seconds[stage] for stage in stages)
    assert peaks[bench_scale.WHOLE_RUN] >= max(peaks[stage] for stage in stages) > 500
    # The rows of StatisticsGen and the Trainer name the path each took.
    for stage in bench_scale.STAGE_PATHS:
        assert re.fullmatch(rf"{stage} \((in_memory|streaming)\)", rows[stage][1]), rows[stage]
