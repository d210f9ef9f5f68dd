"""Where the ML Metadata store is, and read-only queries on it: runs, executions, lineage.

The store is the embedded SQLite file by default, or a MySQL-compatible server (as
Kubeflow deploys it) given as ``mysql://user[:password]@host[:port]/database``; the
connection configs are filled as TFX's own helpers fill them. Queries are used by the
CLI summary, ``traffic-pipeline lineage`` and the end-to-end tests.
TFX records one ``pipeline`` context per pipeline, one ``pipeline_run`` context per
run and one ``node`` context (``<pipeline>.<node id>``) per component.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ml_metadata import errors as mlmd_errors
from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2

from deploy.exit_codes import UsageError

# The connection configs are MLMD's protos filled as TFX's helpers fill them: importing
# tfx.orchestration loads TensorFlow (~15 s), and ``lineage`` reads MLMD without it.

CACHED = metadata_store_pb2.Execution.CACHED
COMPLETE = metadata_store_pb2.Execution.COMPLETE
MYSQL_SCHEME = "mysql://"
MYSQL_DEFAULT_PORT = 3306
ACCEPTED_LOCATIONS = "a SQLite file path, or mysql://user[:password]@host[:port]/database"
CONNECT_TIMEOUT_S = 5.0
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: not a drive
# MLMD's message when the MySQL client library could not connect: its fields are empty.
_MYSQL_FIELDS = re.compile(r"errno: (?P<errno>[^,]*), error: (?P<error>.*)$")


class MetadataLocationError(UsageError):
    """The metadata location is malformed, or its store cannot be opened (exit code 2)."""


def check_location(location: str | Path, option: str = "--metadata") -> None:
    """Raises MetadataLocationError unless ``location`` is a SQLite path or a mysql:// URI.

    Any other ``scheme:`` (``postgres://...``, ``sqlite://...``) would otherwise become a
    SQLite file with that odd name.
    """
    match = _SCHEME.match(str(location))
    if match and not is_mysql(location):
        raise MetadataLocationError(
            f"{option} {redact(location)}: unknown scheme {match.group(1)!r}; "
            f"accepted: {ACCEPTED_LOCATIONS}"
        )


def is_mysql(location: str | Path) -> bool:
    """Whether a metadata location names a MySQL-compatible server."""
    return str(location).startswith(MYSQL_SCHEME)


def sqlite_config(path: str | Path) -> metadata_store_pb2.ConnectionConfig:
    """Connection config for the embedded SQLite store (created if missing).

    MLMD's own proto, filled (parent dir created) as TFX's
    ``sqlite_metadata_connection_config`` does, without importing TFX/TensorFlow.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(path)
    config.sqlite.connection_mode = (
        metadata_store_pb2.SqliteMetadataSourceConfig.READWRITE_OPENCREATE
    )
    return config


def mysql_config(uri: str) -> metadata_store_pb2.ConnectionConfig:
    """Connection config for ``mysql://user[:password]@host[:port]/database``."""
    parts = urlsplit(uri)
    try:
        port = parts.port or MYSQL_DEFAULT_PORT
    except ValueError as err:
        raise MetadataLocationError(f"metadata {redact(uri)}: bad port") from err
    database = parts.path.lstrip("/")
    if not (parts.hostname and parts.username and database) or "/" in database:
        raise MetadataLocationError(
            f"metadata {redact(uri)}: expected mysql://user[:password]@host[:port]/database"
        )
    # MLMD's own proto, filled as TFX's ``mysql_metadata_connection_config`` fills it,
    # without importing TFX (and TensorFlow): ``lineage`` on MySQL answers in a second.
    return metadata_store_pb2.ConnectionConfig(
        mysql=metadata_store_pb2.MySQLDatabaseConfig(
            host=parts.hostname,
            port=port,
            database=database,
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
        )
    )


def connection_config(location: str | Path) -> metadata_store_pb2.ConnectionConfig:
    """Connection config for a location: a ``mysql://`` URI, else a SQLite file path."""
    return mysql_config(str(location)) if is_mysql(location) else sqlite_config(location)


def redact(location: str | Path) -> str:
    """The location with any password hidden, for messages and logs."""
    text = str(location)
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
        if parts.password is None:
            return text
    except ValueError:  # unparseable: hide everything between :// and @
        return re.sub(r"://[^@/]*@", "://***@", text)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def open_store(location: str | Path) -> metadata_store.MetadataStore:
    """Opens an existing MLMD store: a SQLite file, or a MySQL server (one-line error when
    it cannot be reached; a corrupt SQLite file raises MLMD's own error)."""
    if not is_mysql(location):
        if not Path(location).is_file():
            raise FileNotFoundError(f"no ML Metadata store at {location}; run the pipeline first")
        return metadata_store.MetadataStore(sqlite_config(location))
    config = connection_config(location)
    try:
        return metadata_store.MetadataStore(config)
    except (mlmd_errors.StatusError, RuntimeError) as err:  # RuntimeError: cannot connect
        raise MetadataLocationError(
            f"cannot open ML Metadata store {redact(location)}: {_mysql_failure(config, err)}"
        ) from err


def _mysql_failure(config: metadata_store_pb2.ConnectionConfig, err: Exception) -> str:
    """Why MLMD could not open a MySQL store, with the server's host and port.

    When the client library cannot connect, MLMD's message has empty ``errno`` and
    ``error`` fields; a TCP connection of our own then says why (refused, unknown host,
    timed out). When the server answers, its error is MLMD's ``error`` field if there
    is one.
    """
    host, port = config.mysql.host, config.mysql.port or MYSQL_DEFAULT_PORT
    message = " ".join(str(err).split()) or type(err).__name__
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as unreachable:
        reason = unreachable.strerror or str(unreachable) or type(unreachable).__name__
        return f"cannot reach the MySQL server at {host}:{port}: {reason}"
    fields = _MYSQL_FIELDS.search(message)
    if fields and fields["error"].strip():
        return f"the MySQL server at {host}:{port} says: {fields['error'].strip()}"
    return (
        f"the MySQL server at {host}:{port} refused user {config.mysql.user!r} for database "
        f"{config.mysql.database!r} without giving a reason (MLMD: {message}); check the "
        "user, its password and its grants"
    )


def has_pipeline(location: str | Path, pipeline_name: str) -> bool:
    """Whether the store holds any record of the pipeline (False for no SQLite file)."""
    if not is_mysql(location) and not Path(location).is_file():
        return False
    store = open_store(location)
    return store.get_context_by_type_and_name("pipeline", pipeline_name) is not None


@dataclass(frozen=True)
class NodeExecution:
    """One component's execution in a run."""

    node_id: str
    execution: metadata_store_pb2.Execution

    @property
    def cached(self) -> bool:
        return self.execution.last_known_state == CACHED

    @property
    def state(self) -> str:
        return metadata_store_pb2.Execution.State.Name(self.execution.last_known_state)


def _node_ids_by_execution(
    store: metadata_store.MetadataStore, pipeline_name: str
) -> dict[int, str]:
    prefix = f"{pipeline_name}."
    ids: dict[int, str] = {}
    for ctx in store.get_contexts_by_type("node"):
        if ctx.name.startswith(prefix):
            for ex in store.get_executions_by_context(ctx.id):
                ids[ex.id] = ctx.name[len(prefix) :]
    return ids


def run_ids(store: metadata_store.MetadataStore, pipeline_name: str) -> list[str]:
    """Run ids of a pipeline, oldest first."""
    pipeline_ctx = store.get_context_by_type_and_name("pipeline", pipeline_name)
    if pipeline_ctx is None:
        return []
    runs = [
        c
        for c in store.get_contexts_by_type("pipeline_run")
        if any(p.id == pipeline_ctx.id for p in store.get_parent_contexts_by_context(c.id))
    ]
    return [c.name for c in sorted(runs, key=lambda c: (c.create_time_since_epoch, c.id))]


def run_executions(
    store: metadata_store.MetadataStore, pipeline_name: str, run_id: str | None = None
) -> list[NodeExecution]:
    """Executions of one run (default: the latest), in execution order."""
    if run_id is None:
        runs = run_ids(store, pipeline_name)
        if not runs:
            return []
        run_id = runs[-1]
    run_ctx = store.get_context_by_type_and_name("pipeline_run", run_id)
    node_ids = _node_ids_by_execution(store, pipeline_name)
    executions = sorted(store.get_executions_by_context(run_ctx.id), key=lambda e: e.id)
    return [NodeExecution(node_ids.get(e.id, e.type), e) for e in executions]


def artifacts_of(
    store: metadata_store.MetadataStore,
    execution_id: int,
    key: str,
    event_types: tuple[int, ...],
) -> list[metadata_store_pb2.Artifact]:
    """Artifacts linked to an execution under ``key`` by events of the given types."""
    wanted = []
    for event in store.get_events_by_execution_ids([execution_id]):
        if event.type in event_types and any(
            s.HasField("key") and s.key == key for s in event.path.steps
        ):
            wanted.append(event.artifact_id)
    return store.get_artifacts_by_id(wanted) if wanted else []


def outputs_of(store, execution_id: int, key: str) -> list[metadata_store_pb2.Artifact]:
    """Output artifacts of an execution under ``key``."""
    return artifacts_of(
        store,
        execution_id,
        key,
        (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT),
    )


def inputs_of(store, execution_id: int, key: str) -> list[metadata_store_pb2.Artifact]:
    """Input artifacts of an execution under ``key``."""
    return artifacts_of(
        store,
        execution_id,
        key,
        (metadata_store_pb2.Event.INPUT, metadata_store_pb2.Event.DECLARED_INPUT),
    )


def producer_of(store, artifact_id: int) -> metadata_store_pb2.Execution | None:
    """The execution that output an artifact (None for imported artifacts)."""
    ids = [
        e.execution_id
        for e in store.get_events_by_artifact_ids([artifact_id])
        if e.type == metadata_store_pb2.Event.OUTPUT
    ]
    return store.get_executions_by_id(ids[:1])[0] if ids else None


def custom_properties(artifact: metadata_store_pb2.Artifact) -> dict[str, object]:
    """An artifact's custom properties as plain Python values."""
    out: dict[str, object] = {}
    for name, value in artifact.custom_properties.items():
        kind = value.WhichOneof("value")
        out[name] = getattr(value, kind) if kind else None
    return out


def latest_execution_of(
    store: metadata_store.MetadataStore, pipeline_name: str, node_id: str
) -> metadata_store_pb2.Execution | None:
    """The newest successful (complete or cached) execution of a node, any run."""
    ctx = store.get_context_by_type_and_name("node", f"{pipeline_name}.{node_id}")
    if ctx is None:
        return None
    done = [
        e
        for e in store.get_executions_by_context(ctx.id)
        if e.last_known_state in (COMPLETE, CACHED)
    ]
    return max(done, key=lambda e: e.id) if done else None
