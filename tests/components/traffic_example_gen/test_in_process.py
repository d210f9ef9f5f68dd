"""When the day-cache stages run in process instead of a Beam pipeline (``fits``).

That both paths write the same examples, entries and accounting as a full run is
tested in test_day_cache.py (``test_nightly_run_ingests_one_day_and_equals_a_full_run``
runs both).
"""

from __future__ import annotations

from components.traffic_example_gen.in_process import fits

GROUP = 64 << 20
LOCAL = ["--runner=DirectRunner", "--direct_num_workers=2"]


def test_one_small_new_day_runs_in_process_on_a_local_runner():
    assert fits(1, 2 << 20, GROUP, LOCAL)
    assert fits(1, 2 << 20, GROUP, [])  # Beam's default runner is the direct one
    assert fits(0, 0, GROUP, LOCAL)  # nothing new: only the window's tails


def test_beam_runs_over_a_day_group_on_a_cluster_or_with_parallel_days():
    assert not fits(1, GROUP + 1, GROUP, LOCAL)
    assert not fits(1, 2 << 20, GROUP, ["--runner=DataflowRunner"])
    assert not fits(2, 4 << 20, GROUP, LOCAL)  # two workers could parse them at once
    assert not fits(2, 4 << 20, GROUP, [*LOCAL[:1], "--direct_num_workers=0"])  # all cores
    assert fits(2, 4 << 20, GROUP, ["--direct_num_workers=1"])
