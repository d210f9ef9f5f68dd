"""Where the ML Metadata store is: the SQLite default, mysql:// URIs, config and CLI."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from ml_metadata import metadata_store

from deploy import exit_codes
from deploy.cli import main as cli_main
from deploy.mlmd import metadata
from deploy.runners.local.runner import LocalLayout
from pipeline.config import CONFIG_PACKAGE, ConfigError, load_config


def test_mysql_uri_becomes_tfx_mysql_connection_config():
    config = metadata.connection_config("mysql://ml%40team:p%2Fw@db.internal:3307/mlmd")
    assert config.WhichOneof("config") == "mysql"
    assert (config.mysql.host, config.mysql.port) == ("db.internal", 3307)
    assert (config.mysql.database, config.mysql.user) == ("mlmd", "ml@team")
    assert config.mysql.password == "p/w"  # percent-decoded
    assert metadata.connection_config("mysql://u@h/db").mysql.port == metadata.MYSQL_DEFAULT_PORT
    # Filled exactly as TFX's own helper fills it (without importing TFX at run time).
    from tfx.orchestration import metadata as tfx_metadata

    assert config == tfx_metadata.mysql_metadata_connection_config(
        host="db.internal", port=3307, database="mlmd", username="ml@team", password="p/w"
    )


@pytest.mark.parametrize(
    "location", ["postgres://u@h/db", "sqlite:///x.db", "file:///x", "mysql:/u@h/db"]
)
def test_unknown_schemes_are_refused_naming_the_accepted_ones(location):
    with pytest.raises(metadata.MetadataLocationError, match="unknown scheme") as err:
        metadata.check_location(location)
    assert metadata.ACCEPTED_LOCATIONS in str(err.value)


@pytest.mark.parametrize("location", ["/srv/mlmd.sqlite", "rel/m.sqlite", "mysql://u@h/db"])
def test_sqlite_paths_and_mysql_uris_are_accepted(location):
    metadata.check_location(location)


@pytest.mark.parametrize(
    "uri", ["mysql://h:3306/db", "mysql://u@h:3306/", "mysql://u@:3306/db", "mysql://u@h:x/db"]
)
def test_incomplete_mysql_uris_are_rejected_with_the_expected_form(uri):
    with pytest.raises(metadata.MetadataLocationError, match=r"metadata mysql://"):
        metadata.connection_config(uri)


def test_passwords_never_appear_in_messages():
    assert metadata.redact("mysql://u:s3cret@h:1/db") == "mysql://u:***@h:1/db"
    assert metadata.redact("mysql://u@h:1/db") == "mysql://u@h:1/db"
    with pytest.raises(metadata.MetadataLocationError) as err:
        metadata.connection_config("mysql://u:s3cret@h:99999/db")
    assert "s3cret" not in str(err.value)


def test_default_store_is_the_sqlite_file_in_the_output_dir(tmp_path):
    layout = LocalLayout(tmp_path)
    assert layout.metadata_location == str(tmp_path / "metadata.sqlite")
    config = metadata.connection_config(layout.metadata_location)
    assert config.sqlite.filename_uri == str(tmp_path / "metadata.sqlite")
    metadata_store.MetadataStore(config)  # created on first use, then opened by open_store
    assert metadata.open_store(layout.metadata_location).get_artifact_types() == []


def test_config_metadata_must_be_a_mysql_uri(tmp_path):
    builtin = (resources.files(CONFIG_PACKAGE) / "london.yaml").read_text()
    path = tmp_path / "london.yaml"
    path.write_text(builtin + "metadata: mysql://u@h:3306/mlmd\n")
    assert load_config("london", path).metadata == "mysql://u@h:3306/mlmd"
    assert load_config("london").metadata == ""  # the built-ins keep SQLite
    path.write_text(builtin + "metadata: /srv/mlmd.sqlite\n")
    with pytest.raises(ConfigError, match=r"metadata: '/srv/mlmd\.sqlite' is not a mysql://"):
        load_config("london", path)


def test_lineage_with_an_unreachable_server_fails_in_one_line(tmp_path, capsys):
    # Port 1 on localhost: nothing listens, the connection is refused.
    uri = "mysql://u:s3cret@127.0.0.1:1/mlmd"
    argv = ["lineage", "--city", "london", "--output", str(tmp_path), "--metadata", uri]
    assert cli_main(argv) == exit_codes.BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot open ML Metadata store mysql://u:***@127.0.0.1:1/mlmd")
    assert len(err.splitlines()) == 1 and "s3cret" not in err


def test_run_with_an_unreachable_server_fails_before_running(tmp_path, capsys):
    uri = "mysql://u@127.0.0.1:1/mlmd"
    argv = ["run", "--city", "london", "--output", str(tmp_path), "--metadata", uri]
    assert cli_main(argv) == exit_codes.BAD_INPUT
    assert "cannot open ML Metadata store mysql://u@127.0.0.1:1/mlmd" in capsys.readouterr().err
    assert not (tmp_path / "data").exists() and not (tmp_path / "pipelines").exists()


def test_lineage_with_a_sqlite_file_elsewhere(tmp_path, capsys):
    store_file = tmp_path / "shared" / "mlmd.sqlite"
    argv = ["lineage", "--city", "london", "--output", str(tmp_path / "out")]
    assert cli_main([*argv, "--metadata", str(store_file)]) == exit_codes.BAD_INPUT
    assert f"no ML Metadata store at {store_file}" in capsys.readouterr().err
    metadata_store.MetadataStore(metadata.connection_config(store_file))
    assert cli_main([*argv, "--metadata", str(store_file)]) == exit_codes.BAD_INPUT
    assert f"no trained model for city 'london' in {store_file}" in capsys.readouterr().err
    assert not Path(tmp_path / "out" / "metadata.sqlite").exists()
