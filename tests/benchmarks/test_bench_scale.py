"""The scale benchmark's own measuring parts: row sizes and the process-tree peak."""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import pytest

from benchmarks.bench_scale import TreePeak, parse_rows


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
