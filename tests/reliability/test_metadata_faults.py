"""``--metadata`` faults: an unknown scheme, a store that does not match the output, a
MySQL server that cannot be reached or refuses: exit 2 and one line, nothing run.

The MySQL case runs the CLI as a subprocess, so stderr is read at the file-descriptor
level: a C++ log line from ML Metadata would show there. A server that answers but
refuses is tested against a real MariaDB in ``tests/deploy/test_mysql_metadata.py``.
"""

from __future__ import annotations

import os
import socket

import pytest

from deploy import exit_codes
from pipeline import pipeline as wiring
from tests import e2e_support
from tests.reliability import faults


def test_an_unknown_scheme_is_refused_naming_the_accepted_ones(
    london_config, london_data, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)  # where 'postgres:/u@h/db' used to become a SQLite file
    output = tmp_path / "out"
    code = e2e_support.run(
        "london", london_config, london_data, output, "--metadata", "postgres://u:pw@h/db"
    )
    assert code == exit_codes.BAD_INPUT
    line = faults.one_line_error(
        capsys.readouterr().err,
        "--metadata postgres://u:***@h/db: unknown scheme 'postgres'",
        "accepted: a SQLite file path, or mysql://user[:password]@host[:port]/database",
    )
    assert "pw" not in line
    assert os.listdir(tmp_path) == []  # no store, no output, no data generated


def test_lineage_refuses_an_unknown_scheme_too(tmp_path, capsys):
    argv = ["lineage", "--city", "london", "--output", str(tmp_path), "--metadata", "sqlite://x"]
    assert e2e_support.cli_main(argv) == exit_codes.BAD_INPUT
    faults.one_line_error(capsys.readouterr().err, "unknown scheme 'sqlite'")


@pytest.mark.slow  # the baseline run
def test_a_fresh_store_over_an_existing_output_names_the_path_and_what_to_do(
    baseline, tmp_path, capsys
):
    output, layout = baseline["output"], baseline["layout"]
    before = faults.serving_listing(output)
    runs = faults.run_count(output, "london")
    fresh = tmp_path / "fresh.sqlite"
    code = e2e_support.run(
        "london", baseline["config"], baseline["data"], output, "--metadata", str(fresh)
    )
    assert code == exit_codes.BAD_INPUT
    faults.one_line_error(
        capsys.readouterr().err,
        f"ML Metadata store {fresh} has no record of pipeline {wiring.pipeline_name('london')}",
        f"but {layout.pipeline_root('london')} holds its outputs from another store",
        f"pass the store that made them with --metadata (the default is {layout.metadata_path})",
        "or use a new --output",
    )
    assert not fresh.exists()  # refused before anything wrote to it
    assert faults.run_count(output, "london") == runs
    assert faults.serving_listing(output) == before


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on return: nothing listens there


def test_an_unreachable_mysql_server_is_one_line_with_host_port_and_reason(tmp_path):
    port = _closed_port()
    uri = f"mysql://u:s3cret@127.0.0.1:{port}/mlmd"
    done = faults.run_cli(
        ["lineage", "--city", "london", "--output", str(tmp_path), "--metadata", uri]
    )
    assert done.returncode == exit_codes.BAD_INPUT
    line = faults.one_line_error(  # no C++ log lines above it
        done.stderr,
        f"cannot open ML Metadata store mysql://u:***@127.0.0.1:{port}/mlmd",
        f"cannot reach the MySQL server at 127.0.0.1:{port}: Connection refused",
    )
    assert "s3cret" not in line
