"""ML Metadata on a real MariaDB server: whole pipelines, warm start, lineage, concurrency.

The server (``tests/mariadb.py``) runs for this module only, from a temp data dir on its
own port, and is stopped afterwards, also when a test fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.mlmd import metadata
from pipeline import pipeline as wiring
from tests import e2e_support
from tests.mariadb import USER, running_mariadb
from tests.reliability import faults

pytestmark = pytest.mark.slow
LONDON = wiring.pipeline_name("london")
FRANKFURT = wiring.pipeline_name("frankfurt")
REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def mariadb(tmp_path_factory):
    with running_mariadb(tmp_path_factory.mktemp("mariadb")) as server:
        yield server
    with pytest.raises(ProcessLookupError):  # stopped: nothing left running
        os.kill(server.pid, 0)


@pytest.fixture(scope="module")
def cities(tmp_path_factory, mariadb):
    root = tmp_path_factory.mktemp("mysql-e2e")
    return {
        "output": root / "output",
        "london": {
            "data": e2e_support.generate("london", root / "london"),
            "config": e2e_support.write_config(root / "london.yaml", "london", "Europe/London"),
        },
        "frankfurt": {
            "data": e2e_support.generate("frankfurt", root / "frankfurt"),
            "config": e2e_support.write_config(
                root / "frankfurt.yaml", "frankfurt", "Europe/Berlin"
            ),
        },
    }


def _run(cities, city: str, uri: str, *extra: str) -> int:
    c = cities[city]
    return e2e_support.run(
        city, c["config"], c["data"], cities["output"], "--metadata", uri, *extra
    )


def _latest_run(store, pipeline_name: str) -> list[metadata.NodeExecution]:
    return metadata.run_executions(store, pipeline_name)


def test_london_then_warm_started_frankfurt_with_lineage_on_mariadb(cities, mariadb, capsys):
    # --no-cache: the other test's runs share the server and output, in either order
    assert _run(cities, "london", mariadb.uri, "--no-cache") == 0
    # Nothing went to the default SQLite file: the store is the server.
    assert not (cities["output"] / "metadata.sqlite").exists()
    store = metadata.open_store(mariadb.uri)
    london = _latest_run(store, LONDON)
    assert len(london) == 9 and all(n.state == "COMPLETE" for n in london)

    capsys.readouterr()
    assert _run(cities, "frankfurt", mariadb.uri, "--warm-start-from", "latest:london",
                "--warm-start-mode", "frozen", "--no-cache") == 0  # fmt: skip
    out = capsys.readouterr().out
    assert f"latest blessed model of london in {mariadb.uri}" in out

    store = metadata.open_store(mariadb.uri)
    london_trainer = metadata.latest_execution_of(store, LONDON, wiring.TRAINER)
    london_model = metadata.outputs_of(store, london_trainer.id, "model")[0]
    frankfurt_trainer = metadata.latest_execution_of(store, FRANKFURT, wiring.TRAINER)
    donors = metadata.inputs_of(store, frankfurt_trainer.id, "base_model")
    assert [d.uri for d in donors] == [london_model.uri]
    assert all(n.state == "COMPLETE" for n in _latest_run(store, FRANKFURT))

    argv = ["lineage", "--city", "frankfurt", "--output", str(cities["output"])]
    assert cli_main([*argv, "--metadata", mariadb.uri]) == 0
    lineage = capsys.readouterr().out
    assert f"uri {london_model.uri}" in lineage and "donor model: city london" in lineage
    assert "mode: frozen" in lineage
    assert "trained on: 2026-03-16 .. " in lineage  # Frankfurt's first file
    # Without --metadata, lineage looks at the (absent) SQLite file and says so.
    assert cli_main(argv) == exit_codes.BAD_INPUT
    assert "no ML Metadata store at" in capsys.readouterr().err


def _cli(cities, city: str, uri: str) -> list[str]:
    c = cities[city]
    return [
        sys.executable, "-m", "deploy.cli", "run", "--city", city,
        "--config", str(c["config"]), "--data", str(c["data"]),
        "--output", str(cities["output"]), "--workers", "1", "--no-cache", "--metadata", uri,
    ]  # fmt: skip


def test_two_cities_run_at_once_against_one_server(cities, mariadb):
    store = metadata.open_store(mariadb.uri)
    runs_before = {p: len(metadata.run_ids(store, p)) for p in (LONDON, FRANKFURT)}
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    procs = {
        city: subprocess.Popen(
            _cli(cities, city, mariadb.uri),
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for city in ("london", "frankfurt")
    }
    outputs = {city: proc.communicate(timeout=1800)[0] for city, proc in procs.items()}
    for city, proc in procs.items():
        assert proc.returncode == 0, f"{city}:\n{outputs[city][-3000:]}"

    store = metadata.open_store(mariadb.uri)
    spans = {}
    for name in (LONDON, FRANKFURT):
        assert len(metadata.run_ids(store, name)) == runs_before[name] + 1
        run = _latest_run(store, name)
        assert len(run) == 9 and all(n.state == "COMPLETE" for n in run), name  # not cached
        spans[name] = (
            min(n.execution.create_time_since_epoch for n in run),
            max(n.execution.last_update_time_since_epoch for n in run),
        )
    # The two runs overlapped in time: each started before the other finished.
    (a_start, a_end), (b_start, b_end) = spans.values()
    assert a_start < b_end and b_start < a_end


@pytest.mark.parametrize(
    ("user", "database", "reason"),
    [
        ("nobody", "mlmd", "refused user 'nobody' for database 'mlmd' without giving a reason"),
        (USER, "other", f"says: Access denied for user '{USER}'@'%' to database 'other'"),
    ],
    ids=["unknown-user", "no-grant"],
)
def test_a_server_that_refuses_is_one_line_with_host_port_and_its_error(
    mariadb, tmp_path, user, database, reason
):
    # A subprocess: stderr read at the file-descriptor level, where MLMD's C++ logs go.
    uri = f"mysql://{user}@127.0.0.1:{mariadb.port}/{database}"
    done = faults.run_cli(
        ["lineage", "--city", "london", "--output", str(tmp_path), "--metadata", uri]
    )
    assert done.returncode == exit_codes.BAD_INPUT
    faults.one_line_error(done.stderr, f"the MySQL server at 127.0.0.1:{mariadb.port} {reason}")
