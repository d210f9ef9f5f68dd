"""``traffic-pipeline lineage`` on a real run: train and eval spans apart, without TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

HEAVY = ("tensorflow", "tfx", "apache_beam", "tensorflow_model_analysis", "pandas")
# A fresh interpreter, as a user runs the command: reports its wall time and heavy imports.
PROBE = """
import json, sys, time
start = time.monotonic()
from deploy.cli import main
code = main(["lineage", "--city", "london", "--output", sys.argv[1]])
print(json.dumps({"code": code, "seconds": time.monotonic() - start,
                  "heavy": [m for m in sys.argv[2:] if m in sys.modules]}))
"""


def test_lineage_prints_train_and_eval_spans_fast_without_tensorflow(london):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(london["output"]), *HEAVY],
        capture_output=True,
        text=True,
        check=True,
    )
    *lines, probe = done.stdout.strip().splitlines()
    result = json.loads(probe)
    out = "\n".join(lines)
    assert result["code"] == 0, done.stderr
    # 9 generated days from 2026-03-16 with eval_days 2 (tests/e2e_support.py).
    assert "trained on: 2026-03-16 .. 2026-03-22 (7 days)" in out, out
    assert "evaluated on: 2026-03-23 .. 2026-03-24 (2 days)" in out, out
    assert "input: 2026-03-16 .. 2026-03-24 (9 daily files" in out
    # What keeps lineage fast is that it never imports the heavy stack; that is what is
    # asserted. Its wall time is only printed: a loaded 2-core machine varies too much.
    assert result["heavy"] == []
    print(f"\nlineage answered in {result['seconds']:.2f} s")
