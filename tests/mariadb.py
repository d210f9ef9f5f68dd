"""A real, throw-away MariaDB server for tests: own data dir, free port, own socket.

``running_mariadb(tmp_dir)`` initialises a data dir with ``mariadb-install-db``, starts
``mariadbd`` on a free localhost port with a database and a password-less user for ML
Metadata, and always stops it again (SIGTERM, then SIGKILL). The server also gets
SIGTERM if the test process dies, so nothing is left running. The Debian package
``mariadb-server`` is declared in tests/system_packages.txt (``make test`` installs it).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DATABASE = "mlmd"
USER = "mlmd"
START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class MariaDB:
    """A running server: where it listens and the MLMD URI for it."""

    port: int
    socket_path: Path
    log_path: Path
    pid: int

    @property
    def uri(self) -> str:
        return f"mysql://{USER}@127.0.0.1:{self.port}/{DATABASE}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the test process exits."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _tail(path: Path, lines: int = 15) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def _require(command: str) -> str:
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/usr/bin")
    if not found:
        raise RuntimeError(
            f"{command} not found: install the Debian package mariadb-server "
            "(tests/system_packages.sh does it as root; make test runs it)"
        )
    return found


def _wait_ready(proc: subprocess.Popen, port: int, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mariadbd exited with {proc.returncode}:\n{_tail(log)}")
        if "ready for connections" in log.read_text(errors="replace"):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                return
        time.sleep(0.2)
    raise RuntimeError(f"mariadbd not ready after {START_TIMEOUT_S:.0f}s:\n{_tail(log)}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # a clean shutdown
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running_mariadb(base: Path) -> Iterator[MariaDB]:
    """A MariaDB server with its data under ``base``; stopped on exit, also on errors."""
    mariadbd = _require("mariadbd")
    install_db = _require("mariadb-install-db")
    data, log = base / "data", base / "mariadbd.log"
    # Unix socket paths are limited to ~107 bytes; pytest's tmp dirs can be deeper.
    sock = base / "mysqld.sock"
    if len(str(sock)) > 100:
        sock = Path(f"/tmp/mariadb-{os.getpid()}-{id(base)}.sock")
    init_sql = base / "init.sql"
    init_sql.write_text(
        f"CREATE DATABASE IF NOT EXISTS {DATABASE};\n"
        f"CREATE USER IF NOT EXISTS '{USER}'@'%';\n"
        f"GRANT ALL PRIVILEGES ON {DATABASE}.* TO '{USER}'@'%';\n"
    )
    # The tests run as root in CI containers; mariadbd refuses root without --user=root.
    user = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [install_db, "--no-defaults", f"--datadir={data}", "--skip-test-db", *user],
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [
                mariadbd,
                "--no-defaults",
                f"--datadir={data}",
                "--bind-address=127.0.0.1",
                f"--port={port}",
                f"--socket={sock}",
                f"--pid-file={base / 'mariadbd.pid'}",
                f"--init-file={init_sql}",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--max-connections=200",
                *user,
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_ready(proc, port, log)
        yield MariaDB(port=port, socket_path=sock, log_path=log, pid=proc.pid)
    finally:
        _stop(proc)
