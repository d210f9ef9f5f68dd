"""Progress lines come from ML Metadata, not from TFX's log text.

Real LocalDagRunner runs with every log record switched off (``logging.disable``):
a tiny pipeline of Python components (run, cached, failing), and the city pipeline's
TrafficExampleGen through ``run_pipeline`` and the CLI's progress printer.
"""

# No ``from __future__ import annotations``: TFX's @component reads the type hints.

import contextlib
import logging
import pickle
import re
import time
from pathlib import Path

import pytest
from tfx import v1 as tfx
from tfx.dsl.component.experimental.decorators import component

from deploy import cli
from deploy.mlmd import metadata
from deploy.runners.local import progress
from deploy.runners.local.runner import ComponentFailedError, LocalLayout, run_pipeline
from pipeline import names as wiring
from pipeline.config import load_config
from tests import e2e_support
from tests.mariadb import running_mariadb


@component
def Produce(numbers: tfx.dsl.components.OutputArtifact[tfx.types.standard_artifacts.Examples]):
    """Writes one file."""
    Path(numbers.uri, "n.txt").write_text("1")


@component
def Consume(numbers: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples]):
    """Takes a moment, so its execution is seen RUNNING."""
    time.sleep(1.2)


@component
def Fail(numbers: tfx.dsl.components.InputArtifact[tfx.types.standard_artifacts.Examples]):
    """Always fails."""
    raise RuntimeError("boom")


@contextlib.contextmanager
def _no_logging():
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def _run(tmp_path, last, name="progress-test", location=None):
    """Runs Produce -> ``last`` with MLMD at ``location`` (default: a SQLite file)."""
    location = location or str(tmp_path / "mlmd.sqlite")
    produce = Produce()
    pipeline = tfx.dsl.Pipeline(
        pipeline_name=name,
        pipeline_root=str(tmp_path / "root"),
        components=[produce, last(numbers=produce.outputs["numbers"])],
        metadata_connection_config=metadata.connection_config(location),
        enable_cache=True,
    )
    reports: list[tuple[str, str, float]] = []
    watch = progress.RunProgress(location, name, lambda *r: reports.append(r), poll_seconds=0.1)
    with _no_logging(), watch, contextlib.suppress(RuntimeError):
        tfx.orchestration.LocalDagRunner().run(pipeline)
    return reports, watch


def test_components_are_reported_running_then_done_then_cached(tmp_path):
    reports, watch = _run(tmp_path, Consume)
    assert [(node, state) for node, state, _ in reports] == [
        ("Produce", progress.RUNNING),
        ("Produce", progress.DONE),
        ("Consume", progress.RUNNING),
        ("Consume", progress.DONE),
    ]
    consume_seconds = reports[-1][2]
    assert 1.2 <= consume_seconds < 30  # MLMD's own start and end times
    assert watch.run_id and watch.failed_node() is None

    again, rerun = _run(tmp_path, Consume)
    # TFX registers a cache hit RUNNING for an instant: a poll may or may not see that
    finals = [(node, state) for node, state, _ in again if state != progress.RUNNING]
    assert finals == [("Produce", progress.CACHED), ("Consume", progress.CACHED)]
    for node, state, _ in again:
        if state == progress.RUNNING:  # only ever right before that node's "cached"
            assert again[again.index((node, state, 0.0)) + 1][:2] == (node, progress.CACHED)
    assert rerun.run_id != watch.run_id


def test_a_failing_component_is_reported_and_named(tmp_path):
    _run(tmp_path, Consume, name="other-pipeline")  # another pipeline's runs are ignored
    reports, watch = _run(tmp_path, Fail)
    assert [(node, state) for node, state, _ in reports][-2:] == [
        ("Fail", progress.RUNNING),
        ("Fail", progress.FAILED),
    ]
    assert {node for node, _, _ in reports} == {"Produce", "Fail"}
    assert watch.failed_node() == "Fail"


def test_progress_reads_a_mysql_store(tmp_path):
    (tmp_path / "mariadb").mkdir()
    with running_mariadb(tmp_path / "mariadb") as server:
        reports, watch = _run(tmp_path, Fail, location=server.uri)
        failed = watch.failed_node()
    assert [(node, state) for node, state, _ in reports] == [
        ("Produce", progress.RUNNING),
        ("Produce", progress.DONE),
        ("Fail", progress.RUNNING),
        ("Fail", progress.FAILED),
    ]
    assert failed == "Fail"


LINE = r"\[\s*\d+\.\ds\] {node:<28} {state}"


def test_city_run_prints_progress_lines_without_any_log_text(tmp_path, capsys):
    data = e2e_support.generate("london", tmp_path / "data", days=3)
    config_path = e2e_support.write_config(tmp_path / "london.yaml", "london", "Europe/London")
    config = load_config("london", config_path)
    layout = LocalLayout(tmp_path / "output")
    report = cli._print_progress(time.monotonic())
    capsys.readouterr()
    for state in ("done", "cached"):
        with _no_logging():
            run_id = run_pipeline(
                config, layout, str(data), workers=1, progress=report, to_nodes=[wiring.EXAMPLE_GEN]
            )
        out = capsys.readouterr().out
        node = re.escape(wiring.EXAMPLE_GEN)
        if state == "done":  # a cache hit may be seen only once it is cached
            assert re.search(LINE.format(node=node, state="running") + "$", out, re.M), out
        assert re.search(LINE.format(node=node, state=state) + r" in \d+\.\ds$", out, re.M), out
        assert run_id


def test_a_failing_city_run_names_the_component(tmp_path):
    data = tmp_path / "data"
    e2e_support.generate("london", data, days=3)
    for day in sorted(data.glob("*.csv"))[1:]:
        day.write_text(day.read_text().replace(",car,", ",tram,"))  # > 1% rejected
    config = load_config(
        "london", e2e_support.write_config(tmp_path / "l.yaml", "london", "Europe/London")
    )
    reports: list[tuple[str, str, float]] = []
    with _no_logging(), pytest.raises(ComponentFailedError) as failure:
        run_pipeline(
            config,
            LocalLayout(tmp_path / "output"),
            str(data),
            workers=1,
            progress=lambda *r: reports.append(r),
            to_nodes=[wiring.EXAMPLE_GEN],
        )
    assert failure.value.component == wiring.EXAMPLE_GEN
    assert "max_reject_fraction" in str(failure.value.reason)
    # The error crosses process boundaries (a benchmark's child process) intact.
    crossed = pickle.loads(pickle.dumps(failure.value))
    assert (type(crossed), crossed.component, str(crossed)) == (
        ComponentFailedError,
        wiring.EXAMPLE_GEN,
        str(failure.value),
    )
    assert [(n, s) for n, s, _ in reports] == [
        (wiring.EXAMPLE_GEN, progress.RUNNING),
        (wiring.EXAMPLE_GEN, progress.FAILED),
    ]
